"""Crash safety: a worker SIGKILLed in the middle of a signal, then restarted, completes it
with no duplicate order at the simulator and no lost outcome."""

from __future__ import annotations

import os
import signal as signals
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.processes import beat_cmd, running, wait_for, worker_cmd
from tests.signals.helpers import position, working
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _killed_while_placing_exits(strategy: Strategy, sim: Any, *, log_name: str) -> Signal:
    """A buy alert, a worker that fills the entry and is SIGKILLed (the whole worker: main
    process and its child) while its exits call hangs; the signal."""
    with running(worker_cmd(queues="signals"), log_name=log_name) as first:
        response = Client().post(
            f"/webhooks/tradingview/{strategy.webhook_token}/",
            data='{"action": "buy", "ticker": "MNQZ6"}',
            content_type="text/plain",
        )
        signal = Signal.objects.get(pk=response.json()["signal_id"])
        wait_for(
            lambda: sim.control.counters()["requests"].get("order/placeoco", 0) >= 1,
            timeout=60,
            what="the worker to reach the exits",
        )
        os.killpg(first.pid, signals.SIGKILL)  # the whole worker: main process and its child
        first.wait(timeout=10)
    return signal


def test_sigkill_mid_signal_then_restart_completes_without_duplicates(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("TRADOVATE_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "3")  # redeliver an unacked signal quickly
    sim.control.set_price("MNQZ6", "18000.00")
    # The exits call hangs: the worker is killed after the entry filled, while placing exits.
    sim.control.faults(hang={"count": 1, "seconds": 4, "endpoints": ["order/placeoco"]})

    signal = _killed_while_placing_exits(strategy, sim, log_name="worker-crash-1")
    assert position(sim) == 1  # the entry had filled
    assert Signal.objects.get(pk=signal.pk).status == Signal.Status.EXECUTING

    time.sleep(5)  # past the visibility timeout, and past the simulator's hang
    with running(worker_cmd(queues="signals"), log_name="worker-crash-2"):
        wait_for(
            lambda: Signal.objects.get(pk=signal.pk).status == Signal.Status.DONE,
            timeout=60,
            what="the restarted worker to finish the signal",
        )

    outcome = SignalOutcome.objects.get(signal=signal)
    assert outcome.status == SignalOutcome.Status.DONE, outcome.reason
    assert position(sim) == 1
    placed = [o["clOrdId"] for o in sim.control.state()["orders"]]
    for step in ("entry", "tp1", "sl1"):
        assert placed.count(f"bk{signal.pk}-{trader_account.pk}-{step}") == 1, placed
    assert len(working(sim)) == 2
    assert Order.objects.filter(outcome=outcome).count() == 3


def test_a_killed_worker_is_resumed_within_seconds_and_what_it_sent_never_expires(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, monkeypatch: Any
) -> None:
    """No redelivery help (the visibility timeout stays an hour): the signal's lease lapses
    when its worker dies and beat's sweep resumes it. The signal is older than
    SIGNAL_MAX_AGE_SECONDS by then, but its entry was sent: it is finished, not expired, and
    the resumed exits' rows carry the broker's ids and states."""
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("TRADOVATE_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("SIGNAL_LEASE_SECONDS", "3")
    monkeypatch.setenv("SIGNAL_MAX_AGE_SECONDS", "30")
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(hang={"count": 1, "seconds": 3, "endpoints": ["order/placeoco"]})

    signal = _killed_while_placing_exits(strategy, sim, log_name="worker-lease-1")
    received = Signal.objects.get(pk=signal.pk).received_at
    while (timezone.now() - received).total_seconds() <= 31:  # older than the signals' limit
        time.sleep(0.5)
    restarted_at = time.monotonic()

    with (
        running(worker_cmd(queues="signals,default"), log_name="worker-lease-2"),
        running(beat_cmd(), log_name="beat-lease"),
    ):
        wait_for(
            lambda: Signal.objects.get(pk=signal.pk).status in Signal.FINAL_STATUSES,
            timeout=90,
            what="the sweep to resume the signal",
        )
        resumed_in = time.monotonic() - restarted_at
    print(f"resumed and finished {resumed_in:.1f} s after a worker and beat were started")
    # Before: only signals 90 s old were resumed, by a sweep every 30 s (115-119 s seen).
    assert resumed_in < 45
    outcome = SignalOutcome.objects.get(signal=signal)
    assert outcome.status == SignalOutcome.Status.DONE, outcome.reason
    assert "expired" not in outcome.reason
    assert position(sim) == 1
    exits = Order.objects.filter(outcome=outcome, role__in=["take_profit", "stop"])
    assert {(o.state, o.broker_order_id is not None) for o in exits} == {("working", True)}
    placed = [o["clOrdId"] for o in sim.control.state()["orders"]]
    for step in ("entry", "tp1", "sl1"):
        assert placed.count(f"bk{signal.pk}-{trader_account.pk}-{step}") == 1, placed
