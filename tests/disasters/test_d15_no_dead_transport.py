"""D15 — the WebSocket order pool never worked, and nobody knew: nothing exercised it.

Invariant: no dead transport. Every method of the broker protocol that production uses is
driven end to end against the simulator here; adding a method without exercising it fails.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import BrokerConnection
from trading.brokers.base import (
    BracketLeg,
    BracketRequest,
    Broker,
    OrderRequest,
    OrderType,
    Side,
)
from trading.brokers.services import broker_for

pytestmark = pytest.mark.django_db


def test_every_broker_method_works_against_the_simulator(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    broker = broker_for(connection=sim_connection)
    exercised: set[str] = set()

    def entry(
        cl: str, order_type: OrderType = OrderType.MARKET, price: Decimal | None = None
    ) -> OrderRequest:
        return OrderRequest(
            account_id=1002,
            account_name="DEMO1002",
            symbol="MNQZ6",
            side=Side.BUY,
            qty=1,
            order_type=order_type,
            price=price,
            cl_ord_id=cl,
        )

    assert {a.name for a in broker.accounts()} == {"DEMO1001", "DEMO1002"}
    exercised.add("accounts")
    contract = broker.contract(name="MNQZ6")
    exercised.add("contract")
    assert broker.contract_names(contract_ids={contract.id}) == {contract.id: "MNQZ6"}
    exercised.add("contract_names")
    resting = broker.place_order(entry("d15-limit", OrderType.LIMIT, Decimal("17900.00")))
    exercised.add("place_order")
    broker.modify_order(
        order_id=resting.order_id, qty=1, order_type=OrderType.LIMIT, price=Decimal("17910.00")
    )
    exercised.add("modify_order")
    broker.cancel_order(order_id=resting.order_id)
    exercised.add("cancel_order")
    bracket = broker.place_bracket(
        BracketRequest(
            entry=entry("d15-bracket"),
            take_profit=BracketLeg(OrderType.LIMIT, price=Decimal("18050.00")),
            stop=BracketLeg(OrderType.STOP, stop_price=Decimal("17950.00")),
        )
    )
    exercised.add("place_bracket")
    working = {o.order_id for o in broker.working_orders(account_id=1002)}
    exercised.add("working_orders")
    assert working == {bracket.take_profit_order_id, bracket.stop_order_id}
    (position,) = [p for p in broker.positions(account_id=1002) if p.net_pos != 0]
    exercised.add("positions")
    assert position.net_pos == 1
    assert bracket.take_profit_order_id is not None
    broker.cancel_order(order_id=bracket.take_profit_order_id)  # (its OCO stop stays working)
    oco = broker.place_oco(
        OrderRequest(
            account_id=1002,
            account_name="DEMO1002",
            symbol="MNQZ6",
            side=Side.SELL,
            qty=1,
            order_type=OrderType.LIMIT,
            price=Decimal("18060.00"),
            cl_ord_id="d15-oco-tp",
        ),
        OrderRequest(
            account_id=1002,
            account_name="DEMO1002",
            symbol="MNQZ6",
            side=Side.SELL,
            qty=1,
            order_type=OrderType.STOP,
            stop_price=Decimal("17940.00"),
            cl_ord_id="d15-oco-sl",
        ),
    )
    exercised.add("place_oco")
    linked = {o.order_id: o for o in broker.working_orders(account_id=1002)}
    assert linked[oco.order_id].oco_id is not None
    assert linked[oco.order_id].oco_id == linked[oco.other_order_id].oco_id
    assert broker.order_id_for(account_id=1002, cl_ord_id="d15-oco-tp") == oco.order_id
    assert broker.order_id_for(account_id=1001, cl_ord_id="d15-oco-tp") is None  # D08
    exercised.add("order_id_for")
    known = broker.order_lookup(account_id=1002, cl_ord_id="d15-oco-sl")
    assert known is not None and (known.order_id, known.status) == (oco.other_order_id, "Working")
    assert broker.order_lookup(account_id=1002, cl_ord_id="never-sent") is None
    exercised.add("order_lookup")
    broker.modify_order(
        order_id=oco.other_order_id,
        qty=1,
        order_type=OrderType.STOP,
        stop_price=Decimal("17945.00"),
    )
    assert broker.initial_stop_price(order_id=oco.other_order_id) == Decimal("17940")
    assert broker.initial_stop_price(order_id=oco.order_id) is None  # a limit has no stop
    exercised.add("initial_stop_price")
    broker.flatten(account_id=1002, contract_id=contract.id)
    exercised.add("flatten")
    assert all(p.net_pos == 0 for p in broker.positions(account_id=1002))
    assert broker.working_orders(account_id=1002) == []
    statuses = broker.order_statuses(account_id=1002)
    assert statuses[bracket.entry_order_id] == "Filled"
    assert statuses[resting.order_id] == statuses[oco.order_id] == "Canceled"
    assert all(status != "Working" for status in statuses.values())
    exercised.add("order_statuses")
    assert broker.day_pnl(account_id=1002).account_id == 1002
    exercised.add("day_pnl")

    protocol = {
        name
        for name, _ in inspect.getmembers(Broker, inspect.isfunction)
        if not name.startswith("_")
    }
    broker.close()
    exercised.add("close")
    assert protocol == exercised, f"not exercised end to end: {protocol - exercised}"
