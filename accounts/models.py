"""Users (the tenants) and their broker logins.

Every tenant-owned model reaches its user through ``TENANT_PATH`` and is fetched through
``accounts.tenancy`` so "missing" and "not yours" are the same 404.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.tenancy import TenantQuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail is the login and is stored lower-case: match it case-insensitively.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A subscriber: the tenant. The e-mail address is the login."""

    email = models.EmailField("e-mail address", unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Time windows in strategy filters are read in this zone.
    time_zone = models.CharField(max_length=64, default="America/New_York")

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        permissions = [("unlock_login", "Can unlock a log-in locked after failed attempts")]

    def __str__(self) -> str:
        return self.email


class BrokerConnection(models.Model):
    """One broker login: encrypted credentials, the current token, and what went wrong last.

    Secrets (password, API secret, tokens) are stored Fernet-encrypted (``accounts.crypto``) and
    never leave through ``__str__``, admin lists, the API or logs.
    """

    class Broker(models.TextChoices):
        SIMULATOR = "simulator", "Simulator (paper)"
        TRADOVATE_DEMO = "tradovate_demo", "Tradovate demo"
        TRADOVATE_LIVE = "tradovate_live", "Tradovate live"

    class Status(models.TextChoices):
        NEW = "new", "Not tested yet"
        CONNECTED = "connected", "Connected"
        ERROR = "error", "Error"

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="broker_connections")
    label = models.CharField(max_length=100)
    broker = models.CharField(max_length=32, choices=Broker.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    # The broker's own words from the last failed call, shown to the owner verbatim.
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the owner deleted it: the row stays so past outcomes and orders keep their
    # account; its secrets are wiped, its accounts inactive, and it is hidden from every list.
    archived_at = models.DateTimeField(null=True, blank=True)

    # Login. The password and API secret live encrypted in ``credentials_encrypted`` as JSON.
    username = models.CharField(max_length=150, blank=True, default="")
    credentials_encrypted = models.TextField(blank=True, default="", editable=False)
    # Tradovate wants a stable device id per device; one per connection, made once.
    device_id = models.UUIDField(default=uuid.uuid4, editable=False)
    broker_user_id = models.BigIntegerField(null=True, blank=True)

    # Session. Replaced only by a validated new token (D26).
    access_token_encrypted = models.TextField(blank=True, default="", editable=False)
    md_access_token_encrypted = models.TextField(blank=True, default="", editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_renewed_at = models.DateTimeField(null=True, blank=True)
    # The broker's words from the last failed renewal; cleared by the next success.
    token_error = models.TextField(blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("label", "id")
        constraints = [
            # Archived connections keep their name: the same login may be added again.
            models.UniqueConstraint(
                fields=("user", "label"),
                condition=models.Q(archived_at__isnull=True),
                name="connection_label_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_broker_display()})"

    @property
    def has_credentials(self) -> bool:
        return self.credentials_encrypted != ""

    @property
    def has_token(self) -> bool:
        return self.access_token_encrypted != "" and self.token_expires_at is not None


class Subaccount(models.Model):
    """One trading account under a broker login."""

    TENANT_PATH: ClassVar[str] = "connection__user"

    connection = models.ForeignKey(
        BrokerConnection, on_delete=models.CASCADE, related_name="subaccounts"
    )
    broker_account_id = models.BigIntegerField()
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("connection", "broker_account_id"), name="subaccount_unique_per_connection"
            )
        ]

    def __str__(self) -> str:
        return self.name
