"""Break-even and trailing end to end: a real signal opens the position (worker process), the
real ``run_streams`` process watches the simulator's quotes and moves the stop at the broker."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.monitor.helpers import (
    SYMBOL,
    modifies,
    open_watched,
    reason,
    send_signal,
    settle,
    sim_stop,
    worker_and_monitor,
)
from tests.processes import wait_for
from tests.signals.helpers import outside_order, position
from tests.simulator.helpers import authorized_socket, md_token
from trading.models import Order, Strategy, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
BREAK_EVEN_8_1 = {"break_even_trigger_ticks": 8, "break_even_offset_ticks": 1}


@pytest.fixture(scope="module")
def processes(django_db_setup: Any, simulator_server: Any) -> Iterator[Any]:
    with worker_and_monitor(simulator_server.base_url) as streams:
        yield streams


@pytest.fixture(autouse=True)
def _running(processes: Any, sim: Any) -> None:
    assert processes.poll() is None, "run_streams exited"
    sim.control.set_price(SYMBOL, "18000.00")


def _md_sockets(sim: Any) -> int:
    return sum(1 for s in sim.control.sockets() if s["marketData"])


def _stop_row(outcome: Any) -> Order:
    return Order.objects.get(outcome=outcome, role=Order.Role.STOP)


def test_break_even_moves_the_stop_to_entry_plus_offset_once_triggered(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, order_id, initial = open_watched(
        strategy, sim, action="buy", alert_id="be-1", **BREAK_EVEN_8_1
    )
    assert initial == 17997.5  # 10 ticks below the 18000.00 entry

    sim.control.step(SYMBOL, 7)  # 7 ticks in profit: below the trigger
    settle()
    assert sim_stop(sim) == (order_id, 17997.5)
    assert modifies(sim) == 0

    sim.control.step(SYMBOL, 1)  # 8 ticks: break-even, entry + 1 tick
    wait_for(lambda: sim_stop(sim) == (order_id, 18000.25), timeout=15, what="the stop moved")
    wait_for(
        lambda: _stop_row(outcome).stop_price == Decimal("18000.25"),
        timeout=5,
        what="the Order row to say so",
    )
    assert "break-even: stop of DEMO1001 MNQZ6 moved 17997.50 -> 18000.25" in reason(outcome)

    sim.control.step(SYMBOL, 2)  # further up: break-even is already where it belongs
    settle()
    assert modifies(sim) == 1
    assert sim_stop(sim) == (order_id, 18000.25)


def test_trailing_on_a_short_follows_in_whole_steps_and_never_moves_back(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, order_id, initial = open_watched(
        strategy,
        sim,
        action="sell",
        alert_id="tr-1",
        trailing_trigger_ticks=8,
        trailing_step_ticks=4,
    )
    assert initial == 18002.5

    sim.control.step(SYMBOL, -7)  # 7 ticks: not yet
    settle(1.0)
    assert sim_stop(sim) == (order_id, 18002.5)

    sim.control.step(SYMBOL, -1)  # 8 ticks = two 4-tick steps: 18002.50 - 2.00
    wait_for(lambda: sim_stop(sim)[1] == 18000.5, timeout=15, what="the first trail")
    sim.control.step(SYMBOL, -4)  # 12 ticks: three steps
    wait_for(lambda: sim_stop(sim)[1] == 17999.5, timeout=15, what="the second trail")

    sim.control.step(SYMBOL, 6)  # the price comes back up: the stop stays
    settle()
    sim.control.step(SYMBOL, -8)  # 14 ticks: still three whole steps
    settle()
    assert sim_stop(sim) == (order_id, 17999.5)
    assert modifies(sim) == 2
    wait_for(
        lambda: _stop_row(outcome).stop_price == Decimal("17999.5"),
        timeout=5,
        what="the Order row to follow",
    )
    assert reason(outcome).count("trailing stop: stop of DEMO1001 MNQZ6 moved") == 2


def test_a_flat_position_is_never_touched(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, order_id, _ = open_watched(
        strategy, sim, action="buy", alert_id="flat-1", **BREAK_EVEN_8_1
    )
    outside_order(sim, "Sell", 1, symbol=SYMBOL)  # closed by hand: our stop is still working
    assert position(sim) == 0

    sim.control.step(SYMBOL, 10)
    settle(2.0)
    assert modifies(sim) == 0
    # Never moved; reconciliation may cancel it meanwhile (our exit left on a flat position).
    versions = [v for v in sim.control.state()["orderVersions"] if v["orderId"] == order_id]
    assert [v["stopPrice"] for v in versions] == [17997.5]
    assert "moved" not in reason(outcome)


def test_a_position_closed_by_a_signal_lets_go_of_its_stops_and_its_quotes(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, _, _ = open_watched(strategy, sim, action="buy", alert_id="cl-1", **BREAK_EVEN_8_1)
    assert _md_sockets(sim) == 1  # the monitor's (the user stream is open too)
    send_signal(strategy, action="close", ticker=SYMBOL, id="cl-2")  # exits cancelled, flat

    sim.control.step(SYMBOL, 8)  # would trigger break-even: the broker says flat instead
    wait_for(
        lambda: _stop_row(outcome).state == Order.State.CANCELLED,
        timeout=15,
        what="the stop row settled from the broker's word",
    )
    wait_for(
        lambda: _md_sockets(sim) == 0,
        timeout=15,
        what="the market-data socket closed: nothing left to watch",
    )
    assert modifies(sim) == 0
    assert "moved" not in reason(outcome)


def test_a_refused_move_is_recorded_with_the_brokers_words_and_retried(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, order_id, _ = open_watched(
        strategy, sim, action="buy", alert_id="rej-1", **BREAK_EVEN_8_1
    )
    words = "Stop moves refused by the simulator"
    sim.control.faults(
        reject_orders={
            "count": 2,
            "failureReason": "UnknownReason",
            "failureText": words,
            "endpoints": ["order/modifyorder"],
        }
    )

    sim.control.step(SYMBOL, 8)
    wait_for(lambda: words in reason(outcome), timeout=15, what="the refusal in the signal log")
    assert words in _stop_row(outcome).error
    assert reason(outcome).count(words) == 1  # the same failure twice is said once

    # The loop carried on: a later try (after the back-off) moves the stop.
    wait_for(lambda: sim_stop(sim) == (order_id, 18000.25), timeout=20, what="the retry")
    assert modifies(sim) == 3
    wait_for(lambda: _stop_row(outcome).error == "", timeout=5, what="the row's error cleared")
    assert _stop_row(outcome).stop_price == Decimal("18000.25")
    assert "break-even: stop of DEMO1001 MNQZ6 moved 17997.50 -> 18000.25" in reason(outcome)


def test_a_revoked_market_data_token_is_replaced_by_one_login_and_watching_goes_on(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    outcome, order_id, _ = open_watched(
        strategy, sim, action="buy", alert_id="rev-1", **BREAK_EVEN_8_1
    )
    intruder = md_token(sim)  # another app on the same login...
    logins = sim.control.counters()["requests"]["auth/accesstokenrequest"]
    sim.control.faults(max_ws_per_user=1)
    with authorized_socket(sim, intruder, market_data=True):
        pass  # ...takes the only md slot: the monitor's socket is closed, its token revoked
    wait_for(
        lambda: sim.control.counters()["requests"]["md/subscribequote"] >= 2,
        timeout=30,
        what="the monitor to reconnect and subscribe again",
    )
    assert sim.control.counters()["requests"]["auth/accesstokenrequest"] == logins + 1

    sim.control.step(SYMBOL, 8)
    wait_for(lambda: sim_stop(sim) == (order_id, 18000.25), timeout=15, what="the stop moved")
    assert "break-even" in reason(outcome)


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_stop_move_that_goes_unanswered_never_leaves_the_position_without_its_stop(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, fault: str
) -> None:
    """modifyorder held past the client's timeout (hang: carried out late; drop: carried out,
    answer lost): the position keeps a working stop and its take-profit at every moment, and
    the stop ends at break-even."""
    import time

    from tests.signals.test_in_doubt import assert_flat_or_protected

    outcome, order_id, initial = open_watched(
        strategy, sim, action="buy", alert_id=f"be-{fault}", **BREAK_EVEN_8_1
    )
    sim.control.faults(**{fault: {"count": 1, "seconds": 10, "endpoints": ["order/modifyorder"]}})
    sim.control.step(SYMBOL, 8)
    deadline = time.monotonic() + 40
    while sim_stop(sim) != (order_id, 18000.25):
        assert time.monotonic() < deadline, "the stop never reached break-even"
        assert position(sim) == 1
        assert sim_stop(sim)[0] == order_id  # a working stop, all along
        time.sleep(0.2)
    assert_flat_or_protected(sim)  # the position, its take-profit and its stop
    assert modifies(sim) >= 1
