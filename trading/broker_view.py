"""The broker's view of one account and symbol: what the executor reads before it decides and
while it waits (DESIGN.md §5 rule 1: the broker is the truth). A read that fails is a
``SafetyBlock``: nothing may be placed on what cannot be verified (Z2, Z3)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from trading.brokers.base import Broker, BrokerError, BrokerPosition, Side, WorkingOrder
from trading.engine import BrokerView

FILL_WAIT_SECONDS = 5.0


class SafetyBlock(Exception):
    """Nothing may be placed: the broker's state could not be verified."""


def account_read(broker: Broker, *, account_id: int, symbol: str) -> tuple[BrokerView, int]:
    """The broker's view of ``symbol`` on the account, and how many orders are working on the
    whole account (for the Z6 cap), from one read of each list."""
    try:
        positions = [p for p in broker.positions(account_id=account_id) if p.symbol == symbol]
        account_orders = broker.working_orders(account_id=account_id)
    except BrokerError as exc:
        raise SafetyBlock(str(exc)) from exc
    working = tuple(o for o in account_orders if o.symbol == symbol)
    return view_of(positions, working), len(account_orders)


def view_of(positions: list[BrokerPosition], working: tuple[WorkingOrder, ...]) -> BrokerView:
    net_price = next((p.net_price for p in positions if p.net_pos != 0), None)
    return BrokerView(
        net_pos=sum(p.net_pos for p in positions),
        net_price=net_price,
        working_orders=working,
        last_price=None,
    )


def symbol_read(broker: Broker, *, account_id: int, symbol: str) -> BrokerView:
    return account_read(broker, account_id=account_id, symbol=symbol)[0]


def position_read(broker: Broker, *, account_id: int, symbol: str) -> BrokerView:
    """The position only (one call, no working orders in the view): for waiting on a fill and
    recording where it ended."""
    try:
        positions = [p for p in broker.positions(account_id=account_id) if p.symbol == symbol]
    except BrokerError as exc:
        raise SafetyBlock(str(exc)) from exc
    return view_of(positions, ())


def position_wait(
    broker: Broker, *, account_id: int, symbol: str, until: Callable[[int], bool]
) -> BrokerView:
    """Read the broker until ``until(net_pos)`` holds or the wait ends; the last read."""
    deadline = time.monotonic() + FILL_WAIT_SECONDS
    while True:
        view = position_read(broker, account_id=account_id, symbol=symbol)
        if until(view.net_pos) or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def view_snapshot(view: BrokerView) -> dict[str, Any]:
    return {
        "net_pos": view.net_pos,
        "net_price": None if view.net_price is None else str(view.net_price),
        "working_orders": [
            {
                **dataclasses.asdict(o),
                "side": o.side.value,
                "price": None if o.price is None else str(o.price),
                "stop_price": None if o.stop_price is None else str(o.stop_price),
            }
            for o in view.working_orders
        ],
    }


def view_from_snapshot(data: dict[str, Any]) -> BrokerView:
    def dec(v: str | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    orders = tuple(
        WorkingOrder(
            **{
                **o,
                "side": Side(o["side"]),
                "price": dec(o["price"]),
                "stop_price": dec(o["stop_price"]),
            }
        )
        for o in data["working_orders"]
    )
    return BrokerView(
        net_pos=data["net_pos"],
        net_price=dec(data["net_price"]),
        working_orders=orders,
        last_price=None,
    )
