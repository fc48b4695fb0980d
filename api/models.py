"""API keys: a user's credentials for the public REST API.

Only a SHA-256 digest of the secret is stored; the key itself is shown once, when it is made.
The prefix (``bk_`` and 8 characters) is public: lists show it so the owner can tell keys apart.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from accounts.models import User
from accounts.tenancy import TenantQuerySet


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        TRADE = "trade", "Read and trade"

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
