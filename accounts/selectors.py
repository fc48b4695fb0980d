"""Reads for accounts. Everything a request shows goes through a selector that takes the user."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from accounts.models import BrokerConnection, User
from accounts.tenancy import access_by_id, tenant_queryset


def broker_connections_for(*, user: User) -> QuerySet[BrokerConnection]:
    """The user's connections in use: archived (deleted) ones are never listed."""
    return (
        tenant_queryset(model=BrokerConnection, user=user)
        .filter(archived_at__isnull=True)
        .annotate(subaccount_count=Count("subaccounts"))
    )


def broker_connection_by_id(*, user: User | Any, pk: Any) -> BrokerConnection:
    """The user's connection in use with id ``pk``, or 404: missing, not theirs and archived
    alike (``accounts.tenancy.access_by_id``)."""
    connection = access_by_id(model=BrokerConnection, user=user, pk=pk)
    if connection.archived_at is not None:
        raise Http404("No broker connection with that id.")
    return connection
