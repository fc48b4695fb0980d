"""Trades built from fills. This module is the only writer of `Trade` rows: ``trades_rebuild``
builds them from fills (``trades_follow_fill`` the part a new fill changes),
``excursion_record`` keeps an open trade's MFE/MAE current."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least

from accounts.models import BrokerConnection, Subaccount
from analytics.metrics import excursion_of
from analytics.models import FeeRate, PriceExcursion, Trade
from analytics.round_trips import FillIn, RoundTrip, round_trips
from copytrade.models import CopyOutcome
from trading.contracts import contract_spec, parse_symbol
from trading.models import Fill, Position

CENT = Decimal("0.01")


def trades_rebuild(*, subaccount_pk: int, contract_id: int) -> int:
    """Build the trades of one account and contract again from all its fills, in one
    transaction under the account's lock (the same fills always give the same trades). Fees:
    the connection's rate for the contract's root times the contracts bought and sold (0
    without a rate). MFE/MAE: from the trade's fills and the prices seen while it was open
    (`PriceExcursion`). Signals and copy events: those whose orders filled in the trade.
    Returns how many trades there are."""
    with transaction.atomic():
        _account_lock(subaccount_pk)
        return _trades_write(subaccount_pk, contract_id, since=None)


def trades_follow_fill(*, fill_pk: int) -> int:
    """Bring the trades of a newly recorded fill's account and contract up to date, the same
    as `trades_rebuild` would, at the cost of the last trade only: a fill after the last
    trade's start (the stream's usual case, and a snapshot's fills in order) rebuilds just the
    open trade, or the new one after a flat; any other fill (older, or at a reversal's edge)
    rebuilds them all. Returns how many trades were written."""
    fill = Fill.objects.filter(pk=fill_pk).only("subaccount_id", "contract_id", "filled_at").first()
    if fill is None:
        return 0
    with transaction.atomic():
        _account_lock(fill.subaccount_id)
        trades = Trade.objects.filter(
            subaccount_id=fill.subaccount_id, contract_id=fill.contract_id
        ).order_by("-opened_at", "-id")
        last, before = (list(trades.only("opened_at", "closed_at")[:2]) + [None, None])[:2]
        since: tuple[datetime, bool] | None = None
        if last is not None and last.closed_at is None:
            # Rebuild the open trade from its first fill, unless that fill also closed the one
            # before it (a reversal) or the new fill is older than it.
            alone = before is None or (before.closed_at or last.opened_at) < last.opened_at
            if alone and fill.filled_at >= last.opened_at:
                since = (last.opened_at, True)
        elif last is not None and last.closed_at is not None and fill.filled_at > last.closed_at:
            since = (last.closed_at, False)  # flat since: the fills after it make new trades
        return _trades_write(fill.subaccount_id, fill.contract_id, since=since)


def _account_lock(subaccount_pk: int) -> None:
    """Serialize the trade writers of one account (the streams process, the command, fees)."""
    Subaccount.objects.select_for_update().filter(pk=subaccount_pk).first()


def _trades_write(
    subaccount_pk: int, contract_id: int, *, since: tuple[datetime, bool] | None
) -> int:
    """Replace the trades from ``since`` (a time and whether it is included; None: all) with
    those built from the fills from then. Inside the caller's transaction and lock."""
    fills_in = Fill.objects.filter(subaccount_id=subaccount_pk, contract_id=contract_id)
    old = Trade.objects.filter(subaccount_id=subaccount_pk, contract_id=contract_id)
    if since is not None:
        at, included = since
        fills_in = fills_in.filter(**{"filled_at__gte" if included else "filled_at__gt": at})
        old = old.filter(**{"opened_at__gte" if included else "opened_at__gt": at})
    fills = list(fills_in.select_related("order").order_by("filled_at", "broker_fill_id"))
    by_key = {f.pk: f for f in fills}
    trips = round_trips(
        FillIn(
            key=f.pk,
            at=f.filled_at,
            side=1 if f.side == "Buy" else -1,
            qty=f.qty,
            price=f.price,
        )
        for f in fills
        if f.qty > 0
    )
    symbol = fills[-1].symbol if fills else ""
    try:
        contract = parse_symbol(symbol)
        per_point: Decimal | None = contract.spec.value_per_point
        root = contract.root
    except ValueError:
        per_point, root = None, ""
    rate = (
        FeeRate.objects.filter(connection__subaccounts=subaccount_pk, root=root)
        .values_list("per_contract", flat=True)
        .first()
    ) or Decimal(0)
    seen = {
        e.opened_at: (e.high, e.low)
        for e in PriceExcursion.objects.filter(
            subaccount_id=subaccount_pk,
            contract_id=contract_id,
            opened_at__in=[t.opened_at for t in trips],
        )
    }
    order_pks = {f.order_id for f in fills if f.order_id is not None}
    copied: dict[int, set[int]] = {}
    if order_pks:
        for order_pk, event_pk in CopyOutcome.objects.filter(orders__in=order_pks).values_list(
            "orders", "event_id"
        ):
            copied.setdefault(order_pk, set()).add(event_pk)
    old.delete()
    for trip in trips:
        gross = None if per_point is None else (trip.points * per_point).quantize(CENT)
        fees = (rate * trip.contracts).quantize(CENT)
        prices = [by_key[k].price for k in trip.fill_keys]
        observed = seen.get(trip.opened_at)
        mfe, mae = _excursion(trip, prices, observed, per_point)
        trade = Trade.objects.create(
            subaccount_id=subaccount_pk,
            contract_id=contract_id,
            symbol=symbol,
            direction=trip.direction,
            opened_at=trip.opened_at,
            closed_at=trip.closed_at,
            max_qty=trip.max_qty,
            contracts=trip.contracts,
            entry_price=trip.entry_price,
            exit_price=trip.exit_price,
            points=trip.points,
            gross_pnl=gross,
            fees=fees,
            net_pnl=None if gross is None else gross - fees,
            mfe=mfe,
            mae=mae,
            excursion_seen=observed is not None,
        )
        trade.fills.set([by_key[k] for k in trip.fill_keys])
        orders = [by_key[k].order for k in trip.fill_keys]
        signals = {o.signal_id for o in orders if o is not None and o.signal_id is not None}
        if signals:
            trade.signals.set(sorted(signals))
        events = {e for o in orders if o is not None for e in copied.get(o.pk, ())}
        if events:
            trade.copy_events.set(sorted(events))
    return len(trips)


def _excursion(
    trip: RoundTrip,
    prices: list[Decimal],
    observed: tuple[Decimal, Decimal] | None,
    per_point: Decimal | None,
) -> tuple[Decimal | None, Decimal | None]:
    """MFE/MAE of ``trip`` from its fill prices widened by the range ``observed`` (if any)."""
    entry = trip.entry_price
    if per_point is None or entry is None or not prices:
        return None, None
    high, low = max(prices), min(prices)
    if observed is not None:
        high, low = max(high, observed[0]), min(low, observed[1])
    mfe, mae = excursion_of(
        direction=trip.direction,
        entry_price=entry,
        high=high,
        low=low,
        qty=trip.max_qty,
        value_per_point=per_point,
    )
    return mfe.quantize(CENT), mae.quantize(CENT)


def excursion_record(*, position_pks: tuple[int, ...], high: Decimal, low: Decimal) -> int:
    """Widen the running high/low of the open trade of each position by a range of quotes the
    streams process saw (one row per trade: no ticks stored), and bring that open trade's
    MFE/MAE up to date. A position without an open trade is skipped. Returns how many open
    trades were updated."""
    if low > high:
        raise ValueError(f"low {low} above high {high}")
    keys = list(
        Position.objects.filter(pk__in=position_pks).values_list("subaccount_id", "contract_id")
    )
    done = 0
    for subaccount_pk, contract_id in keys:
        trade = (
            Trade.objects.filter(
                subaccount_id=subaccount_pk, contract_id=contract_id, closed_at__isnull=True
            )
            .order_by("-opened_at")
            .first()
        )
        if trade is None or trade.entry_price is None:
            continue
        row, created = PriceExcursion.objects.get_or_create(
            subaccount_id=subaccount_pk,
            contract_id=contract_id,
            opened_at=trade.opened_at,
            defaults={"high": high, "low": low},
        )
        if not created:
            PriceExcursion.objects.filter(pk=row.pk).update(
                high=Greatest(F("high"), high), low=Least(F("low"), low)
            )
            row.refresh_from_db(fields=("high", "low"))
        try:
            per_point = parse_symbol(trade.symbol).spec.value_per_point
        except ValueError:
            continue
        prices = list(trade.fills.values_list("price", flat=True))
        mfe, mae = excursion_of(
            direction=trade.direction,
            entry_price=trade.entry_price,
            high=max([row.high, *prices]),
            low=min([row.low, *prices]),
            qty=trade.max_qty,
            value_per_point=per_point,
        )
        Trade.objects.filter(pk=trade.pk).update(
            mfe=mfe.quantize(CENT), mae=mae.quantize(CENT), excursion_seen=True
        )
        done += 1
    return done


def fee_rate_set(*, connection: BrokerConnection, root: str, per_contract: Decimal) -> int:
    """Set the fee per contract (per side) of ``root`` on ``connection`` and rebuild its
    trades with it. Returns how many trades were rebuilt."""
    if per_contract < 0:
        raise ValueError("A fee cannot be negative.")
    root = root.strip().upper()
    contract_spec(root)  # an unknown root is refused with the list of known ones
    FeeRate.objects.update_or_create(
        connection=connection, root=root, defaults={"per_contract": per_contract}
    )
    pairs = (
        Fill.objects.filter(subaccount__connection=connection)
        .order_by()
        .values_list("subaccount_id", "contract_id", "symbol")
        .distinct()
    )
    done = 0
    for subaccount_pk, contract_id, symbol in pairs:
        try:
            if parse_symbol(symbol).root != root:
                continue
        except ValueError:
            continue
        done += trades_rebuild(subaccount_pk=subaccount_pk, contract_id=contract_id)
    return done


def trades_rebuild_all() -> int:
    """Every account and contract with fills, rebuilt. Returns the number of trades."""
    pairs = Fill.objects.order_by().values_list("subaccount_id", "contract_id").distinct()
    return sum(trades_rebuild(subaccount_pk=s, contract_id=c) for s, c in pairs)
