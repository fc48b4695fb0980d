"""Reads of trades and their metrics, always through the user who owns them.

Every function starts from the user's own trades (``accounts.tenancy``), then narrows by the
scope: a foreign strategy, trader, account or copy group id simply yields no trades. Days are
local days in the scope's time zone (a trade closing 23:30 in New York counts on that New York
day). Metrics are computed by ``analytics.metrics.metrics_of`` only; nothing is redefined here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import BigIntegerField, Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Extract, TruncDate
from django.utils import timezone

from accounts.models import User
from accounts.tenancy import access_by_id, tenant_queryset
from analytics.metrics import ZERO, ClosedTrade, Metrics, metrics_of
from analytics.models import FeeRate, Trade
from copytrade.models import CopyGroup, Follower
from trading.alerts import AlertError, decode_body, parse_alert
from trading.contracts import CONTRACT_SPECS, ContractSpec, points_to_ticks
from trading.models import Fill, Signal, Strategy, TraderAccount


def zone_of(*, user: User) -> str:
    """The user's time zone name, or "UTC" for a name the system does not know (as the
    middleware does for the pages)."""
    try:
        ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return user.time_zone


@dataclass(frozen=True)
class TradeScope:
    """Which of the user's trades to read. ``start``/``end``: inclusive local days in ``zone``
    (a closed trade by its close, an open one by its open). The ids narrow by attribution:
    strategy = trades its signals took part in; trader = trades on the trader's accounts;
    subaccount = that account; copy group = trades on its leader or followers' accounts.
    ``status``: "open", "closed" or "" for both."""

    user: User
    start: date | None = None
    end: date | None = None
    zone: str = "UTC"
    strategy_pk: int | None = None
    trader_pk: int | None = None
    subaccount_pk: int | None = None
    copy_group_pk: int | None = None
    symbol: str = ""
    status: str = ""


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def _when(lookup: str, moment: datetime) -> Q:
    """A closed trade by its close time, an open one by its open time."""
    return Q(**{f"closed_at__{lookup}": moment}) | Q(
        closed_at__isnull=True, **{f"opened_at__{lookup}": moment}
    )


def trades_in(*, scope: TradeScope) -> QuerySet[Trade]:
    """The user's trades in ``scope`` (no row of another user, whatever ids the scope names),
    newest first. Lazy: callers add ``select_related`` or ``values_list`` as they need."""
    trades = tenant_queryset(model=Trade, user=scope.user)
    user = scope.user
    if scope.start is not None:
        trades = trades.filter(_when("gte", _midnight(scope.start, scope.zone)))
    if scope.end is not None:
        after = _midnight(scope.end + timedelta(days=1), scope.zone)
        trades = trades.filter(_when("lt", after))
    if scope.strategy_pk is not None:
        links = Trade.signals.through.objects.filter(
            signal__strategy_id=scope.strategy_pk, signal__strategy__user=user
        )
        trades = trades.filter(pk__in=links.values("trade_id"))
    if scope.trader_pk is not None:
        accounts = TraderAccount.objects.filter(trader_id=scope.trader_pk, trader__user=user)
        trades = trades.filter(subaccount_id__in=accounts.values("subaccount_id"))
    if scope.subaccount_pk is not None:
        trades = trades.filter(subaccount_id=scope.subaccount_pk)
    if scope.copy_group_pk is not None:
        leader = CopyGroup.objects.filter(pk=scope.copy_group_pk, user=user)
        followers = Follower.objects.filter(group_id=scope.copy_group_pk, group__user=user)
        trades = trades.filter(
            Q(subaccount_id__in=leader.values("leader_id"))
            | Q(subaccount_id__in=followers.values("subaccount_id"))
        )
    if scope.symbol:
        trades = trades.filter(symbol__iexact=scope.symbol.strip())
    if scope.status == "open":
        trades = trades.filter(closed_at__isnull=True)
    elif scope.status == "closed":
        trades = trades.filter(closed_at__isnull=False)
    return trades.order_by("-opened_at", "-id")


def _closed_with_net(scope: TradeScope) -> QuerySet[Trade]:
    return trades_in(scope=scope).filter(closed_at__isnull=False, net_pnl__isnull=False)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(microseconds: int) -> datetime:
    """The UTC time ``microseconds`` after 1970, exactly."""
    return EPOCH + timedelta(microseconds=microseconds)


def _microseconds(field: str) -> Cast:
    """A time as whole microseconds since 1970 (UTC), exactly. Loading 100,000 of these and
    adding them to ``EPOCH`` takes a tenth of the time Django's time-zone loader takes."""
    seconds = Extract(field, "epoch", tzinfo=UTC)
    return Cast(seconds * Value(1_000_000), output_field=BigIntegerField())


def metrics_for(*, scope: TradeScope) -> Metrics:
    """The metrics of the scope's closed trades whose net P&L is known (a contract without a
    point value has none), in ``scope.zone``. One query of plain values, no model instances:
    100,000 trades take a fraction of a second."""
    rows = (
        _closed_with_net(scope)
        .order_by()
        .annotate(opened_us=_microseconds("opened_at"), closed_us=_microseconds("closed_at"))
        .values_list("net_pnl", "gross_pnl", "fees", "opened_us", "closed_us", "mfe", "mae")
    )
    return metrics_of(
        [
            # The filter guarantees the nullable columns are set here.
            ClosedTrade(net, gross, fees, us(o), us(c), mfe, mae)  # type: ignore[arg-type]
            for net, gross, fees, o, c, mfe, mae in rows
        ],
        zone=scope.zone,
    )


class DayPnl(NamedTuple):
    day: date
    net: Decimal
    trades: int


def daily_pnl(*, scope: TradeScope, month: date) -> list[DayPnl]:
    """Net P&L and trade count of every local day of ``month`` (its day is ignored), days
    without a trade included at 0, in order. The scope's own dates are replaced by the
    month. One query, summed by the database per local day."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    rows = (
        _closed_with_net(replace(scope, start=first, end=last))
        .order_by()
        .annotate(day=TruncDate("closed_at", tzinfo=ZoneInfo(scope.zone)))
        .values("day")
        .annotate(net=Sum("net_pnl"), trades=Count("id"))
        .values_list("day", "net", "trades")
    )
    found = {day: (net, count) for day, net, count in rows}
    days = (first + timedelta(days=n) for n in range(last.day))
    return [DayPnl(d, *found.get(d, (ZERO, 0))) for d in days]


def today_pnl(*, user: User) -> DayPnl:
    """Today's net P&L and closed trades (with a known net) in the user's time zone. One
    query."""
    zone = zone_of(user=user)
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    found = (
        _closed_with_net(TradeScope(user=user, zone=zone, start=today, end=today))
        .order_by()
        .aggregate(net=Sum("net_pnl"), trades=Count("id"))
    )
    return DayPnl(today, found["net"] or ZERO, found["trades"])


@dataclass(frozen=True)
class StrategyRank:
    strategy: Strategy
    metrics: Metrics


def strategies_ranked(*, scope: TradeScope) -> list[StrategyRank]:
    """Each strategy of the user with the metrics of the scope's closed trades its signals
    took part in (a trade counts once per strategy), best net first; strategies without a
    trade last, by name. Archived strategies only when they have trades. Two queries."""
    links = (
        _closed_with_net(scope)
        .filter(signals__strategy__user=scope.user)
        .order_by()
        .annotate(opened_us=_microseconds("opened_at"), closed_us=_microseconds("closed_at"))
        .values_list(
            "signals__strategy_id", "pk", "net_pnl", "gross_pnl", "fees", "opened_us", "closed_us"
        )
        .distinct()  # a trade with two signals of one strategy counts once
    )
    by_strategy: dict[int, dict[int, ClosedTrade]] = {}
    for strategy_pk, trade_pk, net, gross, fees, o, c in links:
        # Closed trades with a net (the filter above): the nullable columns are set.
        trade = ClosedTrade(net, gross, fees, us(o), us(c))  # type: ignore[arg-type]
        by_strategy.setdefault(strategy_pk, {})[trade_pk] = trade
    ranked = [
        StrategyRank(s, metrics_of(list(by_strategy.get(s.pk, {}).values()), zone=scope.zone))
        for s in tenant_queryset(model=Strategy, user=scope.user)
        if s.archived_at is None or s.pk in by_strategy
    ]
    ranked.sort(key=lambda r: r.strategy.name)
    ranked.sort(key=lambda r: (r.metrics.trades == 0, -r.metrics.net))
    return ranked


# --- one trade ---------------------------------------------------------------------------------


def contract_root(symbol: str) -> str | None:
    """The known contract root a symbol starts with (MNQZ6 -> MNQ; an expired contract's name
    too), the longest that matches; None if none does."""
    text = symbol.strip().upper()
    for end in range(len(text), 0, -1):
        if text[:end] in CONTRACT_SPECS:
            return text[:end]
    return None


@dataclass(frozen=True)
class AlertVsFill:
    """A signal's alert price against the trade's entry fill from that signal (or the trade's
    first fill). ``points``/``ticks``/``dollars``: how much worse than the alert the fill was
    for the trade's direction (negative = better), per contract."""

    signal: Signal
    alert_price: Decimal | None
    fill_price: Decimal | None
    points: Decimal | None
    ticks: Decimal | None
    dollars: Decimal | None


@dataclass(frozen=True)
class TradeDetail:
    trade: Trade
    fills: list[Fill]
    signals: list[AlertVsFill]
    # Set when no fee rate exists for the trade's root on its connection (fees shown as 0).
    fee_note: str


def _alert_price(signal: Signal) -> Decimal | None:
    """The price the alert carried: as stored at intake (``parsed["alert"]["price"]``), else
    read again from the stored fields or body by ``trading.alerts`` (None if it had none)."""
    parsed: Any = signal.parsed if isinstance(signal.parsed, dict) else {}
    stored = parsed.get("alert")
    if isinstance(stored, dict) and stored.get("price") is not None:
        try:
            return Decimal(str(stored["price"]))
        except ArithmeticError:
            return None
    try:
        fields = parsed.get("fields")
        data = fields if isinstance(fields, dict) else decode_body(signal.raw_body.encode())
        return parse_alert(data).price
    except AlertError:
        return None


def _alert_vs_fill(
    signal: Signal, trade: Trade, fills: list[Fill], spec: ContractSpec | None
) -> AlertVsFill:
    opening = "Buy" if trade.direction > 0 else "Sell"
    own = [f for f in fills if f.order is not None and f.order.signal_id == signal.pk]
    entry = next((f for f in own if f.side == opening), own[0] if own else None)
    fill_price = entry.price if entry is not None else trade.entry_price
    alert = _alert_price(signal)
    if alert is None or fill_price is None:
        return AlertVsFill(signal, alert, fill_price, None, None, None)
    points = (fill_price - alert) * trade.direction
    ticks = dollars = None
    if spec is not None:
        ticks = points_to_ticks(points, spec)
        dollars = (points * spec.value_per_point).quantize(Decimal("0.01"))
    return AlertVsFill(signal, alert, fill_price, points.normalize(), ticks, dollars)


def trade_for(*, user: User, pk: Any) -> TradeDetail:
    """The user's trade ``pk`` (404 for a missing and a foreign one alike) with its fills in
    order, each of its signals' alert price against its entry fill, and a note when no fee
    rate is set for its root. Five queries."""
    trade = access_by_id(model=Trade, user=user, pk=pk)
    trade = Trade.objects.select_related("subaccount__connection").get(pk=trade.pk)
    fills = list(trade.fills.select_related("order").order_by("filled_at", "broker_fill_id"))
    root = contract_root(trade.symbol)
    spec = CONTRACT_SPECS[root] if root is not None else None
    signals = [
        _alert_vs_fill(s, trade, fills, spec) for s in trade.signals.select_related("strategy")
    ]
    connection = trade.subaccount.connection
    note = ""
    if not FeeRate.objects.filter(connection=connection, root=root or "").exists():
        shown = root or trade.symbol
        note = f"No fee rate set for {shown} on {connection.label}: fees shown as 0."
    return TradeDetail(trade, fills, signals, note)
