"""Tenancy: every tenant-owned object is fetched through the user who owns it.

``access_by_id`` raises the same 404 for "does not exist" and "belongs to someone else", so a
probe cannot tell the two apart (Zulip's ``access_stream_by_id``). The view and viewset mixins
built on ``tenant_queryset`` live in ``accounts.mixins``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[Any]):
    """``for_user`` filters by the model's ``TENANT_PATH`` (e.g. ``connection__user``)."""

    def for_user(self, user: User | Any) -> models.QuerySet[Any]:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(**{self.model.TENANT_PATH: user})


def tenant_queryset(*, model: type[M], user: User | Any) -> models.QuerySet[M]:
    path = getattr(model, "TENANT_PATH", None)
    if path is None:
        raise TypeError(f"{model.__name__} is not tenant-owned (no TENANT_PATH)")
    if user is None or not user.is_authenticated:
        return model._default_manager.none()
    return model._default_manager.filter(**{path: user})


def access_by_id(*, model: type[M], user: User | Any, pk: Any) -> M:
    """The user's ``model`` with primary key ``pk``, or 404 (missing and foreign alike)."""
    try:
        return tenant_queryset(model=model, user=user).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise Http404(f"No {model._meta.verbose_name} with that id.") from None
