"""D17 / D29 -- two signals racing on one position.

DISASTERS.md rows:
    D17 what happened: "DCA off got 1 contract instead of 3 (two layers, stale position)"
        invariant:     "one decision point, fed the broker's position read at decision time"
        proof:         "test"
    D29 what happened: "TP orders 5+ deep"
        invariant:     "after any add, exactly one set of exits per subaccount+symbol (cancel
                        before place)"
        proof:         "test"

The engine is right for the position it is given; the race is in the glue around it. Two
signals executed at the same moment on one account both read the broker's position before
either acts, each decides from what is stale by the time it places, and the account ends with
two entries and two sets of exits. The executor holds a lock per (subaccount, symbol) from the
broker read to the last order, so the second signal reads what the first left.

Here two stored signals are executed concurrently, each as the worker would, against the
simulator with every answer slowed down (so unlocked executions would overlap), and the end
state must be the one a serial execution gives: the right net position, one entry per opening
decision, one set of exits for it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection

from tests.signals.helpers import position, working
from trading.execution import signal_execute
from trading.models import Order, SignalOutcome, Strategy, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _race(strategy: Strategy, *actions: str) -> list[SignalOutcome]:
    """Store one signal per action, then execute them all at once, one thread each."""
    ids = []
    for number, action in enumerate(actions):
        raw = json.dumps({"action": action, "ticker": "MNQZ6", "id": f"race-{number}"})
        received = signal_receive(strategy=strategy, raw=raw.encode())
        assert received.status == "accepted", received.reason
        ids.append(received.signal.pk)
    start = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def execute(signal_id: int) -> None:
        try:
            start.wait(timeout=10)
            signal_execute(signal_id=signal_id)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return list(SignalOutcome.objects.filter(signal_id__in=ids).order_by("finished_at"))


def _exits(sim: Any) -> list[tuple[str, str, int]]:
    """The working orders at the simulator: (type, side, quantity)."""
    versions = {v["orderId"]: v for v in sim.control.state()["orderVersions"]}
    return sorted(
        (versions[o["id"]]["orderType"], o["action"], versions[o["id"]]["orderQty"])
        for o in working(sim)
    )


def _entries_sent(sim: Any) -> list[str]:
    orders = sim.control.state()["orders"]  # a flatten's market order has no clOrdId
    return [o["clOrdId"] for o in orders if o.get("clOrdId", "").endswith("-entry")]


@pytest.fixture
def slow_broker(sim: Any) -> Any:
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(latency_ms=150)
    return sim


def test_two_identical_signals_at_once_open_one_position_with_one_set_of_exits(
    trader_account: TraderAccount, strategy: Strategy, slow_broker: Any
) -> None:
    assert strategy.on_same_direction == "ignore"
    outcomes = _race(strategy, "buy", "buy")
    assert position(slow_broker) == 1
    assert len(_entries_sent(slow_broker)) == 1
    assert _exits(slow_broker) == [("Limit", "Sell", 1), ("Stop", "Sell", 1)]
    assert Order.objects.filter(role=Order.Role.ENTRY).count() == 1
    assert [o.status for o in outcomes] == [SignalOutcome.Status.DONE] * 2
    assert [(o.decision, o.position_before, o.position_after) for o in outcomes] == [
        ("open", 0, 1),
        ("ignored", 1, 1),  # the second read the first one's position
    ], [o.reason for o in outcomes]


def test_two_opposite_signals_at_once_end_in_the_later_ones_position(
    trader_account: TraderAccount, strategy: Strategy, slow_broker: Any
) -> None:
    assert strategy.on_opposite_direction == "reverse"
    first, second = _race(strategy, "buy", "sell")
    assert position(slow_broker) in (1, -1)  # never flat with two sets of exits
    assert len(_exits(slow_broker)) == 2
    assert (first.status, second.status) == (SignalOutcome.Status.DONE,) * 2
    assert (first.decision, second.decision) == ("open", "reverse"), (first.reason, second.reason)
    held = first.position_after
    assert held in (1, -1)
    # The reversal started from the position the first one left, and ended on the other side.
    assert (first.position_before, second.position_before, second.position_after) == (
        0,
        held,
        -held,
    )
    assert position(slow_broker) == -held
    exit_side = "Sell" if -held > 0 else "Buy"
    assert _exits(slow_broker) == [("Limit", exit_side, 1), ("Stop", exit_side, 1)]
    assert len(_entries_sent(slow_broker)) == 2  # one per opening decision, no more
