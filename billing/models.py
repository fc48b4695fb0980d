"""Billing: plans and their limits, Whop memberships, every Whop webhook, e-mail deliveries.

Every user-owned row here is deleted with its user (``CASCADE``) and every row that merely
points at a user for the record (who granted, which event) is kept with ``SET_NULL``: deleting a
fully populated user from the admin works (D23).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import TenantQuerySet


class Plan(models.Model):
    """What a subscription allows. ``None`` in a ``max_*`` field means no cap; 0 means none."""

    name = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    # Whop's ids for this tier; a membership is matched by plan id first, then product id.
    whop_product_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    whop_plan_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    max_broker_accounts = models.PositiveIntegerField(
        null=True, blank=True, help_text="Trading accounts at the broker. Empty = no cap."
    )
    max_traders = models.PositiveIntegerField(
        null=True, blank=True, help_text="Traders (strategy on accounts). Empty = no cap."
    )
    max_followers = models.PositiveIntegerField(
        null=True, blank=True, help_text="Copy-trading followers. Empty = no cap."
    )
    copy_trading_allowed = models.BooleanField(default=False)
    strategies_allowed = models.BooleanField(default=False)
    premium_strategies_allowed = models.BooleanField(default=False)
    api_access_allowed = models.BooleanField(default=False)
    trial_days = models.PositiveSmallIntegerField(default=7)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Order on the upgrade page.")

    class Meta:
        ordering = ("rank", "name")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One subscription: from Whop (``source=whop``) or granted by staff (never synced over)."""

    class Source(models.TextChoices):
        WHOP = "whop", "Whop"
        STAFF = "staff", "Granted by staff"

    class Status(models.TextChoices):
        # Whop's statuses, verbatim.
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELING = "canceling", "Canceling at period end"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"
        UNRESOLVED = "unresolved", "Unresolved"
        DRAFTED = "drafted", "Drafted"

    # Statuses that unlock the product. past_due is Whop's grace period: still valid, warned.
    VALID_STATUSES: ClassVar[frozenset[str]] = frozenset(
        {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.CANCELING}
    )
    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WHOP)
    whop_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    whop_product_id = models.CharField(max_length=64, blank=True, default="")
    whop_plan_id = models.CharField(max_length=64, blank=True, default="")
    # End of the paid (or trial) period; for a staff grant, when the grant ends (None = open).
    period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships_granted",
    )
    note = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("-updated_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source="staff") | models.Q(whop_id__isnull=False),
                name="membership_whop_has_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.whop_id or 'staff grant'} ({self.status})"

    @property
    def is_valid(self) -> bool:
        if self.status not in self.VALID_STATUSES:
            return False
        if self.source == self.Source.STAFF and self.period_end is not None:
            return self.period_end > timezone.now()
        return True


class TradingPause(models.Model):
    """Trading paused for a user because no membership is valid. Nothing is deleted.

    ``ended_at`` is None while the pause holds; every page shows a banner meanwhile.
    """

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trading_pauses"
    )
    reason = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    traders_disabled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-started_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("user",),
                condition=models.Q(ended_at__isnull=True),
                name="one_open_pause_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} paused: {self.reason}"


class WhopEvent(models.Model):
    """Every webhook Whop sent us, verified or not. Unique by Whop's id: applied once."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled)"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected (bad signature)"

    class Envelope(models.TextChoices):
        CURRENT = "current", "type + data"
        LEGACY = "legacy", "action + data/body"
        UNKNOWN = "unknown", "unreadable"

    # Null for rejected deliveries: an unsigned request must not claim a genuine event's id.
    whop_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    claimed_id = models.CharField(max_length=128, blank=True, default="")
    event_type = models.CharField(max_length=64, blank=True, default="", db_index=True)
    envelope = models.CharField(max_length=8, choices=Envelope.choices, default=Envelope.UNKNOWN)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    result = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="whop_events",
    )

    class Meta:
        ordering = ("-received_at", "-id")

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.whop_id or self.claimed_id} ({self.status})"


class WhopSyncRun(models.Model):
    """One pass of the membership sync, with what it found wrong (D14: never a silent skip)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        PARTIAL = "partial", "Finished with errors"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, default="beat")
    pages = models.PositiveIntegerField(default=0)
    memberships_seen = models.PositiveIntegerField(default=0)
    memberships_changed = models.PositiveIntegerField(default=0)
    users_created = models.PositiveIntegerField(default=0)
    skipped_staff = models.PositiveIntegerField(default=0)
    skipped_unknown_inactive = models.PositiveIntegerField(default=0)
    shape_errors = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class EmailDelivery(models.Model):
    """One e-mail we owe someone; a failed send is recorded, retried, and shown (D24)."""

    class Kind(models.TextChoices):
        ACTIVATION = "activation", "Activation link"
        PASSWORD_RESET = "password_reset", "Password reset"
        SIGNUP_CONFIRM = "signup_confirm", "Sign-up confirmation link"
        SIGNUP_EXISTING = "signup_existing", "Sign-up with an address that has an account"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, retrying"
        FAILED = "failed", "Failed (gave up)"

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_deliveries",
    )
    to_email = models.EmailField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The body is rendered at each send attempt and never stored: it carries a one-time link.
    subject = models.CharField(max_length=200)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "e-mail deliveries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email} ({self.status})"


class SupportPermissions(models.Model):
    """No table: a home for the support desk's custom permissions."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = (
            ("resend_activation", "Can resend an activation e-mail"),
            ("resync_membership", "Can resync memberships from Whop"),
            ("grant_membership", "Can grant or extend a membership"),
            ("view_health", "Can view the support health panel"),
        )

    def __str__(self) -> str:
        return "support permissions"
