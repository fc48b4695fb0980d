"""Reads for API keys, always through the user who owns them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from accounts.tenancy import access_by_id, tenant_queryset
from api.models import ApiKey


def api_keys_of(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys, revoked ones included (the page says so), newest first."""
    return tenant_queryset(model=ApiKey, user=user).order_by("-created_at", "-id")


def api_key_by_id(*, user: User | Any, pk: Any) -> ApiKey:
    """The user's key ``pk`` or 404 (missing and foreign alike)."""
    return access_by_id(model=ApiKey, user=user, pk=pk)
