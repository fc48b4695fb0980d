"""Execution quality read from the orders, their broker reports and fills (definitions in
analytics/execution.py): per strategy and account, and the broker's rejects by reason."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User
from analytics.execution import EntrySample, ExecutionSummary, execution_of, rejects_by_reason
from trading.contracts import parse_symbol
from trading.models import Fill, Order, OrderEvent

# The broker has the order from these reports on (its first Working, or a fill at once).
ACCEPTED = (Order.State.WORKING, Order.State.PARTIALLY_FILLED, Order.State.FILLED)


@dataclass(frozen=True)
class SignalScope:
    """``user``'s signals received in the local days ``start``..``end`` (inclusive, in
    ``zone``; None: unbounded), of one strategy and one account if given."""

    user: User
    zone: str
    start: date | None = None
    end: date | None = None
    strategy_pk: int | None = None
    subaccount_pk: int | None = None


@dataclass(frozen=True)
class ExecutionRow:
    strategy_pk: int
    strategy: str
    subaccount_pk: int
    account: str
    summary: ExecutionSummary


def _since(day: date | None, zone: str, *, after: bool = False) -> datetime | None:
    """The start of ``day`` in ``zone`` (of the next day with ``after``)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=int(after)), time(), tzinfo=ZoneInfo(zone))


def _signal_orders(scope: SignalScope) -> QuerySet[Order]:
    """The orders placed for the signals of ``scope``, on its user's accounts."""
    orders = Order.objects.for_user(scope.user).filter(signal__isnull=False)
    if (since := _since(scope.start, scope.zone)) is not None:
        orders = orders.filter(signal__received_at__gte=since)
    if (until := _since(scope.end, scope.zone, after=True)) is not None:
        orders = orders.filter(signal__received_at__lt=until)
    if scope.strategy_pk is not None:
        orders = orders.filter(signal__strategy_id=scope.strategy_pk)
    if scope.subaccount_pk is not None:
        orders = orders.filter(subaccount_id=scope.subaccount_pk)
    return orders


def _price(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def execution_quality(*, scope: SignalScope) -> list[ExecutionRow]:
    """The execution figures of the entries of ``scope``'s signals, per strategy and account,
    ordered by strategy then account name. One query, whatever the number of orders."""
    accepted = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_state__in=ACCEPTED)
        .order_by("at")
        .values("at")[:1]
    )
    first_fill = (
        Fill.objects.filter(order=OuterRef("pk")).order_by("filled_at").values("filled_at")[:1]
    )
    rows = (
        _signal_orders(scope)
        .filter(role=Order.Role.ENTRY)
        .annotate(accepted_at=Subquery(accepted), first_fill_at=Subquery(first_fill))
        .values_list(
            "signal__strategy_id",
            "signal__strategy__name",
            "subaccount_id",
            "subaccount__name",
            "side",
            "symbol",
            "state",
            "filled_qty",
            "avg_fill_price",
            "signal__parsed__alert__price",
            "signal__received_at",
            "accepted_at",
            "first_fill_at",
        )
        .order_by()
    )
    samples: dict[tuple[int, str, int, str], list[EntrySample]] = defaultdict(list)
    rejects: dict[tuple[int, str, int, str], int] = defaultdict(int)
    specs: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for (
        strategy_pk,
        strategy,
        account_pk,
        account,
        side,
        symbol,
        state,
        filled,
        fill_price,
        alert_price,
        received_at,
        accepted_at,
        first_fill_at,
    ) in rows:
        key = (strategy_pk, strategy, account_pk, account)
        if state == Order.State.REJECTED:
            rejects[key] += 1
            samples.setdefault(key, [])
            continue
        if symbol not in specs:
            try:
                spec = parse_symbol(symbol).spec
                specs[symbol] = (spec.tick_size, spec.value_per_point)
            except ValueError:
                specs[symbol] = (None, None)
        tick_size, per_point = specs[symbol]
        samples[key].append(
            EntrySample(
                side=1 if side == "Buy" else -1,
                qty=filled,
                alert_price=_price(alert_price),
                fill_price=fill_price if filled else None,
                received_at=received_at,
                accepted_at=accepted_at,
                first_fill_at=first_fill_at,
                tick_size=tick_size,
                value_per_point=per_point,
            )
        )
    return [
        ExecutionRow(
            strategy_pk=key[0],
            strategy=key[1],
            subaccount_pk=key[2],
            account=key[3],
            summary=execution_of(entries, rejects=rejects.get(key, 0)),
        )
        for key, entries in sorted(samples.items(), key=lambda item: (item[0][1], item[0][3]))
    ]


def rejects_by_broker_reason(*, scope: SignalScope) -> list[tuple[str, int]]:
    """The orders of ``scope``'s signals (any role) the broker refused, counted by the broker's
    own words, most frequent first. One query."""
    orders = _signal_orders(scope).filter(state=Order.State.REJECTED)
    return rejects_by_reason(orders.order_by().values_list("error", flat=True))
