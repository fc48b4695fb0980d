"""The signal page reads the broker's state of its orders when opened (issue 9, item 4).

A stop that filled at the broker had its OCO take-profit cancelled there, yet both rows stayed
"Working" for good. Opening the signal page now asks the broker and shows what it said, and
when it asked, or why it could not.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.processes import wait_for
from trading.execution import signal_execute
from trading.models import Order, Signal, Strategy, TraderAccount
from trading.order_refresh import orders_refresh_from_broker
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _bracket(strategy: Strategy, sim: Any) -> Signal:
    """A long MNQ at 18000 with its take-profit (18005) and stop (17997.50) working."""
    sim.control.set_price("MNQZ6", "18000.00")
    received = signal_receive(
        strategy=strategy, raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode()
    )
    assert received.status == "accepted", received.reason
    signal = signal_execute(signal_id=received.signal.pk)
    rows = {o.role: o for o in Order.objects.filter(signal=signal)}
    assert rows["take_profit"].state == rows["stop"].state == Order.State.WORKING
    return signal


def _stop_out(sim: Any) -> None:
    """Move the price through the stop and wait until the simulator has filled it."""
    sim.control.set_price("MNQZ6", "17990.00")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not [o for o in sim.control.state()["orders"] if o["ordStatus"] == "Working"]:
            return
        time.sleep(0.05)
    raise AssertionError("the simulator did not fill the stop")


def _states(signal: Signal) -> dict[str, str]:
    return {o.role: o.state for o in Order.objects.filter(signal=signal)}


def test_opening_the_page_after_a_stop_fill_shows_stop_filled_and_take_profit_cancelled(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    signal = _bracket(strategy, sim)
    _stop_out(sim)
    response = owner_client.get(reverse("trading:signal_detail", args=[signal.pk]))
    assert response.status_code == 200
    assert _states(signal) == {
        "entry": Order.State.FILLED,
        "take_profit": Order.State.CANCELLED,
        "stop": Order.State.FILLED,
    }
    page = response.content.decode()
    table = page[page.index('<table class="table orders">') :]
    assert "Working" not in table
    assert table.count('data-state="filled"') == 2 and table.count('data-state="cancelled"') == 1
    assert "Broker state read " in page and "(America/New_York)." in page


def test_orders_still_working_stay_working_and_the_page_says_when_it_read(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    signal = _bracket(strategy, sim)
    response = owner_client.get(reverse("trading:signal_detail", args=[signal.pk]))
    assert _states(signal)["stop"] == Order.State.WORKING
    assert _states(signal)["take_profit"] == Order.State.WORKING
    assert "Broker state read " in response.content.decode()


def test_broker_that_cannot_be_read_is_said_in_its_words_and_nothing_changes(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    signal = _bracket(strategy, sim)
    _stop_out(sim)
    sim.control.faults(http_5xx={"count": 50, "status": 503, "endpoints": ["order/list"]})
    response = owner_client.get(reverse("trading:signal_detail", args=[signal.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Could not read the broker's state of these orders: Paper:" in page
    assert "503" in page
    assert "Broker state read" not in page
    assert _states(signal)["stop"] == Order.State.WORKING


def test_rows_sent_or_in_doubt_are_left_to_reconciliation(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, member: Any
) -> None:
    signal = _bracket(strategy, sim)
    _stop_out(sim)
    Order.objects.filter(signal=signal, role="stop").update(state=Order.State.IN_DOUBT)
    Order.objects.filter(signal=signal, role="take_profit").update(state=Order.State.SUBMITTED)
    result = orders_refresh_from_broker(signal=signal, user=member)
    assert result.needed is False
    assert _states(signal)["stop"] == Order.State.IN_DOUBT
    assert _states(signal)["take_profit"] == Order.State.SUBMITTED


def test_a_slow_broker_is_bounded_by_the_timeout(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, member: Any
) -> None:
    signal = _bracket(strategy, sim)
    sim.control.faults(hang={"count": 1, "seconds": 5, "endpoints": ["order/list"]})
    started = time.monotonic()
    result = orders_refresh_from_broker(signal=signal, user=member, timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert result.read_at is None
    assert result.errors == ("Paper: the broker did not answer within 0.5 s",)
    # The abandoned read goes on in the background: its call times out (2 s) and is retried
    # (a GET). Left running, that retry reached the next test's simulator and counted as a
    # read of the page it opened (seen under pytest-xdist). It ends here, within this test.
    wait_for(
        lambda: not any(t.name.startswith("order-refresh") for t in threading.enumerate()),
        timeout=15,
        what="the abandoned background read to end",
    )


def test_a_login_with_a_live_user_stream_is_not_read_on_opening(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    """The mirror keeps its rows current: opening the page costs the broker nothing."""
    from trading.brokers.services import connection_login_key
    from trading.stream_state import StreamProgress, StreamState, stream_states_write

    signal = _bracket(strategy, sim)
    connection = trader_account.subaccount.connection
    login = connection_login_key(connection=connection)
    live = StreamState(
        login=login,
        connection_pks=[connection.pk],
        holder="test:1",
        connected=True,
        updated_at=time.time(),
        progress=StreamProgress(synced_at=time.time()),
    )
    stream_states_write(states=[live])
    asked = sim.control.counters()["requests"].get("order/list", 0)
    response = owner_client.get(reverse("trading:signal_detail", args=[signal.pk]))
    assert "live from the broker's stream" in response.content.decode()
    assert sim.control.counters()["requests"].get("order/list", 0) == asked

    stream_states_write(states=[dataclasses.replace(live, connected=False)])  # stream down
    result = orders_refresh_from_broker(signal=signal, user=strategy.user)
    assert result.needed and not result.streamed and result.read_at is not None
