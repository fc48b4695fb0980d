from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Support sees which keys exist and when they were used; never a secret (only its
    digest is stored, and it is not shown either)."""

    list_display = (
        "name",
        "prefix",
        "user",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("scope",)
    search_fields = ("name", "prefix", "user__email")
    exclude = ("secret_hash",)
    readonly_fields = (
        "user",
        "prefix",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
