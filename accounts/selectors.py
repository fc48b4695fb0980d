"""Reads for accounts. Everything a request shows goes through a selector that takes the user."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.models import BrokerConnection, User
from accounts.tenancy import tenant_queryset


def broker_connections_for(*, user: User) -> QuerySet[BrokerConnection]:
    return tenant_queryset(model=BrokerConnection, user=user).annotate(
        subaccount_count=Count("subaccounts")
    )
