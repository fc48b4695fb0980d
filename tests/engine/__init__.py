"""Tests of the pure decision engine (`trading/engine.py`) and settings resolution.

Small builders shared by these tests and the engine halves of `tests/disasters/`: the engine
is pure, so every test builds its inputs directly -- no database, no mocks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from trading.brokers.base import Side, WorkingOrder
from trading.contracts import CONTRACT_SPECS, ContractSpec
from trading.engine import Action, AlertInput, BrokerView, FilterState

ES: ContractSpec = CONTRACT_SPECS["ES"]
MES: ContractSpec = CONTRACT_SPECS["MES"]
NOON_UTC = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NO_FILTERS = FilterState(entries_today=0, last_entry_at=None, realized_loss_today=Decimal(0))


def make_alert(
    action: Action,
    *,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    take_profit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    received_at: datetime = NOON_UTC,
) -> AlertInput:
    return AlertInput(
        action=action,
        quantity=quantity,
        price=price,
        take_profit_price=take_profit_price,
        stop_price=stop_price,
        received_at=received_at,
    )


def working_exits(*order_ids: int, side: Side = Side.SELL) -> tuple[WorkingOrder, ...]:
    """Working exit orders of one subaccount+symbol, as the executor hands them over."""
    return tuple(
        WorkingOrder(
            order_id=order_id,
            account_id=1,
            contract_id=1,
            symbol="ESM6",
            side=side,
            status="Working",
            order_type="Limit",
            qty=1,
            price=Decimal("5010"),
            stop_price=None,
        )
        for order_id in order_ids
    )


def make_broker(
    net_pos: int,
    *,
    net_price: Decimal | None = None,
    working: tuple[WorkingOrder, ...] = (),
    last_price: Decimal | None = Decimal("5000"),
) -> BrokerView:
    if net_price is None and net_pos != 0:
        net_price = Decimal("5000")
    return BrokerView(
        net_pos=net_pos, net_price=net_price, working_orders=working, last_price=last_price
    )
