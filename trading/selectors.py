"""Reads of the trading app that take the user: what the live pages and channel show.

Every read here is scoped to one user (``accounts.tenancy``): another user's rows are never
returned, whatever ids are asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import Subaccount, User
from accounts.tenancy import tenant_queryset
from trading.live_frames import (
    Frame,
    account_frame,
    cash_frame,
    order_frame,
    position_frame,
    position_last_price,
)
from trading.models import CashBalance, Fill, Order, Position, SignalOutcome


def _of_user(model: type[Any], user_id: int) -> QuerySet[Any]:
    return model._default_manager.filter(**{f"{model.TENANT_PATH}_id": user_id})


@dataclass(frozen=True)
class LiveRows:
    """Rows of one user that changed, loaded with what their frames name."""

    positions: list[Position]
    orders: list[Order]
    fills: list[Fill]
    outcomes: list[SignalOutcome]
    cash: list[CashBalance]


def live_changed_rows(
    *,
    user_id: int,
    order_pks: Iterable[int] = (),
    position_pks: Iterable[int] = (),
    fill_pks: Iterable[int] = (),
    outcome_pks: Iterable[int] = (),
    cash_pks: Iterable[int] = (),
) -> LiveRows:
    """The user's rows among the given ids (others' ids are silently left out), in id order,
    each with its account and connection loaded. Kinds with no ids cost no query."""
    account = "subaccount__connection"

    def load(model: type[Any], pks: Iterable[int], *related: str) -> list[Any]:
        wanted = sorted(set(pks))
        if not wanted:
            return []
        rows = _of_user(model, user_id).filter(pk__in=wanted).select_related(account, *related)
        return list(rows.order_by("pk"))

    return LiveRows(
        positions=load(Position, position_pks),
        orders=load(Order, order_pks),
        fills=load(Fill, fill_pks, "order"),
        outcomes=load(SignalOutcome, outcome_pks),
        cash=load(CashBalance, cash_pks),
    )


def live_subaccounts(*, user: User) -> QuerySet[Subaccount]:
    """The user's accounts the live pages show: those of connections in use (a deleted
    connection's accounts are gone from the pages), with their connection and cash."""
    return (
        tenant_queryset(model=Subaccount, user=user)
        .filter(connection__archived_at__isnull=True)
        .select_related("connection", "cash_balance")
        .order_by("connection__label", "name", "id")
    )


def live_snapshot(*, user: User) -> Frame:
    """Everything the live pages show, per account of ``user``: open positions (net not 0),
    working orders (``Order.OPEN_STATES``) and cash, in the frames later changes arrive in.
    Three queries whatever the number of accounts."""
    subaccounts = list(live_subaccounts(user=user))
    positions = (
        Position.objects.filter(subaccount__in=subaccounts)
        .exclude(net_pos=0)
        .select_related("subaccount__connection")
        .order_by("subaccount_id", "symbol", "id")
    )
    orders = (
        Order.objects.filter(subaccount__in=subaccounts, state__in=Order.OPEN_STATES)
        .select_related("subaccount__connection")
        .order_by("subaccount_id", "symbol", "id")
    )
    accounts: dict[int, Frame] = {
        sub.pk: {
            "account": account_frame(sub),
            "cash": cash_frame(getattr(sub, "cash_balance", None)),
            "positions": [],
            "orders": [],
        }
        for sub in subaccounts
    }
    for position in positions:
        accounts[position.subaccount_id]["positions"].append(
            position_frame(position, last_price=position_last_price(position=position))
        )
    for order in orders:
        accounts[order.subaccount_id]["orders"].append(order_frame(order))
    return {"type": "snapshot", "accounts": list(accounts.values())}


def fills_recent(*, user: User, limit: int = 20) -> list[Fill]:
    """The user's latest fills, newest first (the dashboard's list)."""
    return list(
        tenant_queryset(model=Fill, user=user)
        .select_related("subaccount")
        .order_by("-filled_at", "-id")[:limit]
    )
