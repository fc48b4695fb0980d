"""A strategy, trader and account on the simulator's DEMO1001, for the UI's end-to-end tests.

Import the fixtures into a test module: ``from tests.ui.sim_setup import ui_account``.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import BrokerConnection
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory
from trading.brokers.services import broker_connection_test
from trading.execution import signal_execute
from trading.models import Signal, TraderAccount


@pytest.fixture
def ui_account(sim_connection: BrokerConnection, sim: Any) -> TraderAccount:
    """Trader "MNQ follower" on DEMO1001, strategy "MNQ breakout": 1 contract, TP 20 ticks,
    stop 10 ticks, symbol MNQZ2026 (the test alert's ticker), price 18000."""
    subaccounts = broker_connection_test(connection=sim_connection)
    strategy = StrategyFactory.create(
        user=sim_connection.user,
        name="MNQ breakout",
        entry_size=1,
        add_size=1,
        symbol_override="MNQZ2026",
        take_profits=[{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
        stop_distance="10",
        stop_unit="ticks",
    )
    trader = TraderFactory.create(strategy=strategy, user=strategy.user, name="MNQ follower")
    sim.control.set_price("MNQZ6", "18000.00")
    return TraderAccountFactory.create(trader=trader, subaccount=subaccounts[0])


def net_position(sim: Any, account_name: str = "DEMO1001") -> int:
    state = sim.control.state()
    account_ids = {a["id"] for a in state["accounts"] if a["name"] == account_name}
    return sum(p["netPos"] for p in state["positions"] if p["accountId"] in account_ids)


def working_orders(sim: Any) -> list[dict[str, Any]]:
    return [o for o in sim.control.state()["orders"] if o["ordStatus"] == "Working"]


def execute_shown_signal(page: Any) -> Signal:
    """The browser is on a signal's page (after "Send test alert"): execute it as the worker
    would, then reload the page."""
    signal_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    signal = signal_execute(signal_id=signal_id)
    page.reload()
    return signal
