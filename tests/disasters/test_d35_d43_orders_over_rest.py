"""D35 — a dead WebSocket pool held a lock and every trade timed out.
D43 — the order helper defaulted to the WebSocket and hung.

Invariant: orders go over REST with timeouts and never wait on the event stream: with no
stream at all, or with the stream's server silent, an order is placed at once; a hanging
broker costs at most the timeout.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from accounts.models import BrokerConnection
from trading.brokers.base import BrokerTimeout, OrderRequest, OrderType, Side
from trading.brokers.services import broker_for

pytestmark = pytest.mark.django_db


def _order(cl: str) -> OrderRequest:
    return OrderRequest(
        account_id=1001,
        account_name="DEMO1001",
        symbol="MESZ6",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.MARKET,
        cl_ord_id=cl,
    )


def test_an_order_goes_over_rest_automated_with_its_client_id(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker = broker_for(connection=sim_connection)
    assert sim.control.counters()["ws_connects"] == 0  # no stream exists at all
    started = time.monotonic()
    broker.place_order(_order("rest-1"))
    assert time.monotonic() - started < 1.0
    assert sim.control.counters()["requests"]["order/placeorder"] == 1
    (order,) = [o for o in sim.control.state()["orders"] if o.get("clOrdId") == "rest-1"]
    assert order["ordStatus"] == "Filled"


def test_a_hanging_broker_costs_at_most_the_timeout(
    sim_connection: BrokerConnection, sim: Any, settings: Any
) -> None:
    settings.TRADOVATE_TIMEOUT_SECONDS = 1.0
    broker = broker_for(connection=sim_connection)
    sim.control.faults(hang={"count": 1, "seconds": 30})
    started = time.monotonic()
    with pytest.raises(BrokerTimeout) as error:
        broker.place_order(_order("hang-1"))
    assert time.monotonic() - started < 2.5
    assert "did not answer order/placeorder within 1.0 s" in str(error.value)
    broker.place_order(_order("after-hang"))  # the next call is unaffected
