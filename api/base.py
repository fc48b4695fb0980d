"""The base of every API viewset: the queryset is the request user's, through a selector.

A subclass implements ``scoped_queryset(user)`` (a selector that takes the user); the base
returns nothing while the schema is generated (no user), so no subclass can forget to scope.
Objects are looked up in that queryset only: another user's id is a 404, like a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from accounts.models import User


class TenantViewSet(viewsets.GenericViewSet):
    lookup_value_regex = "[0-9]+"
    queryset_model: type[models.Model]

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> models.QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset_model._default_manager.none()
        return self.scoped_queryset(self.user)

    @property
    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user


class FilterParams(serializers.Serializer[Any]):
    """The query parameters lists share; each list reads the ones it documents."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    strategy = serializers.IntegerField(required=False, min_value=1)
    trader = serializers.IntegerField(required=False, min_value=1)
    account = serializers.IntegerField(required=False, min_value=1)
    group = serializers.IntegerField(required=False, min_value=1)
    status = serializers.CharField(required=False, max_length=20)
    archived = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: date | None = attrs.get("date_from")
        end: date | None = attrs.get("date_to")
        if start is not None and end is not None and start > end:
            raise ValidationError({"date_to": ["The last day is before the first day."]})
        return attrs


def filters(request: Request) -> dict[str, Any]:
    """The request's list filters, validated (a bad one is a 400 naming it)."""
    params = FilterParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)
