"""The cooldown is measured from the right entry, end to end (Trader.cooldown_seconds ->
`trading.execution` -> the engine -> the simulator): the last entry of THIS trader account that
was carried out (DONE). Never another account's, never a blocked signal, never an entry the
broker refused.

Earlier entries are made through the real path, then moved back in time on their outcome row
(``decided_at``, the time the executor records and the cooldown reads), so no test sleeps.
The current entry never counts either: an execution killed after its entry filled is resumed
(the executor decides again from its stored broker snapshot) and must not be blocked by its own
decision.
"""

from __future__ import annotations

import json
import os
import signal as signals
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F

from accounts.models import Subaccount
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory
from tests.processes import running, wait_for
from tests.signals.helpers import only_outcome, position, send, working
from trading.execution import signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy, Trader, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)

COOLDOWN = 60
HANG_SECONDS = 3


def _cooldown(account: TraderAccount, seconds: int | None) -> None:
    Trader.objects.filter(pk=account.trader_id).update(cooldown_seconds=seconds)


def _age(outcome: SignalOutcome, seconds: int) -> None:
    """Move the outcome's decision ``seconds`` into the past."""
    SignalOutcome.objects.filter(pk=outcome.pk).update(
        decided_at=F("decided_at") - timedelta(seconds=seconds)
    )


def _placed(sim: Any) -> int:
    return len(sim.control.state()["orders"])


def test_a_blocked_signal_does_not_restart_the_cooldown(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    _cooldown(trader_account, COOLDOWN)
    entry = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="c1"))
    assert entry.decision == "open", entry.reason
    assert only_outcome(send(strategy, action="close", ticker="MNQZ6", id="c2")).decision == "close"
    placed = _placed(sim)

    blocked = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="c3"))
    assert blocked.decision == "blocked"
    assert "in cooldown: last entry 0 s ago, cooldown_seconds=60" in blocked.reason
    assert _placed(sim) == placed and position(sim) == 0  # nothing reached the broker

    _age(entry, COOLDOWN + 1)  # the entry is now past the cooldown; the blocked one is not
    again = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="c4"))
    assert (again.status, again.decision) == (SignalOutcome.Status.DONE, "open"), again.reason
    assert position(sim) == 1


def test_the_cooldown_runs_from_the_latest_entry_not_the_first(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    first = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="l1"))
    send(strategy, action="close", ticker="MNQZ6", id="l2")
    latest = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="l3"))
    send(strategy, action="close", ticker="MNQZ6", id="l4")
    assert (first.decision, latest.decision) == ("open", "open")
    _age(first, 600)
    _age(latest, 30)
    _cooldown(trader_account, COOLDOWN)

    blocked = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="l5"))
    assert blocked.decision == "blocked"
    assert "in cooldown: last entry 30 s ago" in blocked.reason
    assert position(sim) == 0


def test_another_accounts_entry_does_not_start_this_accounts_cooldown(
    trader_account: TraderAccount, strategy: Strategy, subaccounts: list[Subaccount], sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    other_strategy = StrategyFactory.create(user=strategy.user, name="Other", entry_size=1)
    other_trader = TraderFactory.create(
        strategy=other_strategy, user=strategy.user, cooldown_seconds=COOLDOWN
    )
    TraderAccountFactory.create(trader=other_trader, subaccount=subaccounts[1])
    _cooldown(trader_account, COOLDOWN)

    other = only_outcome(send(other_strategy, action="buy", ticker="MNQZ6", id="o1"))
    assert other.decision == "open" and position(sim, 1002) == 1  # DEMO1002, just now

    mine = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="m1"))
    assert (mine.status, mine.decision) == (SignalOutcome.Status.DONE, "open"), mine.reason
    assert position(sim, 1001) == 1


def test_an_entry_the_broker_refused_does_not_start_the_cooldown(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    _cooldown(trader_account, COOLDOWN)
    sim.control.faults(reject_orders={"count": 1, "failureReason": "MaxPosLimitReached"})
    refused = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="r1"))
    assert (refused.status, refused.decision) == (SignalOutcome.Status.FAILED, "open")
    assert Order.objects.get(outcome=refused, role="entry").state == Order.State.REJECTED
    assert position(sim) == 0

    retry = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="r2"))
    assert (retry.status, retry.decision) == (SignalOutcome.Status.DONE, "open"), retry.reason
    assert position(sim) == 1


def test_a_resumed_entry_is_not_blocked_by_its_own_decision(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("TRADOVATE_TIMEOUT_SECONDS", "30")
    sim.control.set_price("MNQZ6", "18000.00")
    _cooldown(trader_account, COOLDOWN)
    received = signal_receive(
        strategy=strategy, raw=json.dumps({"action": "buy", "ticker": "MNQZ6"}).encode()
    )
    signal_id = received.signal.pk
    # The exits call hangs; the process executing the signal is killed after the entry filled.
    sim.control.faults(hang={"count": 1, "seconds": HANG_SECONDS, "endpoints": ["order/placeoco"]})
    code = (
        "import django; django.setup(); from trading.execution import signal_execute; "
        f"signal_execute(signal_id={signal_id})"
    )
    with running([sys.executable, "-c", code], log_name="cooldown-resume") as first:
        wait_for(
            lambda: sim.control.counters()["requests"].get("order/placeoco", 0) >= 1,
            timeout=60,
            what="the first execution to reach the exits",
        )
        os.killpg(first.pid, signals.SIGKILL)
        first.wait(timeout=10)
    assert position(sim) == 1
    interrupted = SignalOutcome.objects.get(signal_id=signal_id)
    assert (interrupted.status, interrupted.decision) == (SignalOutcome.Status.PENDING, "open")

    time.sleep(HANG_SECONDS + 0.5)  # the hung exits call has ended at the simulator
    resumed = signal_execute(signal_id=signal_id)  # as the stale-signal beat would
    assert position(sim) == 1
    assert len(working(sim)) == 2  # one take-profit and one stop: none lost, none doubled
    assert resumed.status == Signal.Status.DONE
    outcome = only_outcome(resumed)
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "open"), outcome.reason
