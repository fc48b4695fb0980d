"""Trades built from fills: ``trades_rebuild`` is the only writer of `Trade` rows."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts.models import BrokerConnection
from analytics.models import FeeRate, Trade
from analytics.round_trips import FillIn, round_trips
from trading.contracts import contract_spec, parse_symbol
from trading.models import Fill

CENT = Decimal("0.01")


def trades_rebuild(*, subaccount_pk: int, contract_id: int) -> int:
    """Build the trades of one account and contract again from all its fills, in one
    transaction (the same fills always give the same trades). Fees: the connection's rate for
    the contract's root times the contracts bought and sold (0 without a rate). Returns how
    many trades there are."""
    fills = list(
        Fill.objects.filter(subaccount_id=subaccount_pk, contract_id=contract_id)
        .select_related("order")
        .order_by("filled_at", "broker_fill_id")
    )
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
    with transaction.atomic():
        Trade.objects.filter(subaccount_id=subaccount_pk, contract_id=contract_id).delete()
        for trip in trips:
            gross = None if per_point is None else (trip.points * per_point).quantize(CENT)
            fees = (rate * trip.contracts).quantize(CENT)
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
            )
            trade.fills.set([by_key[k] for k in trip.fill_keys])
            orders = [by_key[k].order for k in trip.fill_keys]
            signals = {o.signal_id for o in orders if o is not None and o.signal_id is not None}
            if signals:
                trade.signals.set(sorted(signals))
    return len(trips)


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
