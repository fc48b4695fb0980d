"""Base mixins: a view or viewset's queryset is always the request user's rows.

A subclass cannot forget to filter (PostHog's ``TeamAndOrgViewSetMixin``): it names the model,
the mixin scopes it through ``accounts.tenancy.tenant_queryset``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models

from accounts.tenancy import tenant_queryset


class TenantScopedMixin(LoginRequiredMixin):
    """For class-based views: ``get_queryset`` is always the request user's rows."""

    model: type[models.Model]
    request: Any

    def get_queryset(self) -> models.QuerySet[Any]:
        return tenant_queryset(model=self.model, user=self.request.user)


class TenantScopedViewSetMixin:
    """For DRF viewsets: the queryset is scoped to ``request.user``; set ``tenant_model``."""

    tenant_model: type[models.Model]
    request: Any

    def get_queryset(self) -> models.QuerySet[Any]:
        return tenant_queryset(model=self.tenant_model, user=self.request.user)
