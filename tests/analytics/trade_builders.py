"""Trades for the page and selector tests, built the real way: Fill rows (as the mirror records
them) turned into Trade rows by ``analytics.services.trades_rebuild``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from accounts.models import Subaccount
from analytics.models import Trade
from analytics.services import trades_rebuild
from tests.factories import FillFactory, OrderFactory
from trading.models import Order, Signal

SYMBOL = "MNQZ6"  # $2 a point, 0.25 tick
_contracts = count(7000)


def round_trip(
    subaccount: Subaccount,
    *,
    opened_at: datetime,
    points: str,
    direction: int = 1,
    qty: int = 1,
    hold: timedelta = timedelta(minutes=10),
    entry: str = "21000.00",
    signal: Signal | None = None,
    symbol: str = SYMBOL,
) -> Trade:
    """One trade from flat to flat: an entry fill (from ``signal``'s order when given) and an
    exit ``points`` later in the trade's favour (negative: against), on a contract of its own,
    rebuilt into its Trade row."""
    contract_id = next(_contracts)
    entry_price = Decimal(entry)
    exit_price = entry_price + Decimal(points) * direction
    opening, closing = ("Buy", "Sell") if direction > 0 else ("Sell", "Buy")
    order = None
    if signal is not None:
        order = OrderFactory.create(
            subaccount=subaccount,
            signal=signal,
            side=opening,
            qty=qty,
            symbol=symbol,
            order_type="Market",
            price=None,
            role=Order.Role.ENTRY,
            state=Order.State.FILLED,
        )
    common = {"subaccount": subaccount, "contract_id": contract_id, "symbol": symbol, "qty": qty}
    FillFactory.create(**common, side=opening, price=entry_price, filled_at=opened_at, order=order)
    FillFactory.create(**common, side=closing, price=exit_price, filled_at=opened_at + hold)
    trades_rebuild(subaccount_pk=subaccount.pk, contract_id=contract_id)
    return Trade.objects.get(subaccount=subaccount, contract_id=contract_id)


def open_trade(subaccount: Subaccount, *, opened_at: datetime) -> Trade:
    contract_id = next(_contracts)
    FillFactory.create(
        subaccount=subaccount, contract_id=contract_id, symbol=SYMBOL, filled_at=opened_at
    )
    trades_rebuild(subaccount_pk=subaccount.pk, contract_id=contract_id)
    return Trade.objects.get(subaccount=subaccount, contract_id=contract_id)
