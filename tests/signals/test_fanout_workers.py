"""The fan-out across real Celery worker processes: a large signal split by login into chunks
that several processes run, and a worker SIGKILLed in the middle of a 100-account fan-out
(issue 14's kill test): after a restart, every account holds exactly one entry and one set of
exits at the simulator, nothing sent twice, nothing lost."""

from __future__ import annotations

import os
import signal as signals
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.processes import beat_cmd, log_path_for, running, wait_for, worker_cmd
from tests.signals.fanout_setup import broker_books, logins_follow
from trading.models import Order, Signal, SignalOutcome, Strategy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _post(strategy: Strategy, action: str) -> Signal:
    response = Client().post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        data=f'{{"action": "{action}", "ticker": "MNQZ6"}}',
        content_type="text/plain",
    )
    assert response.status_code == 200, response.content
    return Signal.objects.get(pk=response.json()["signal_id"])


def _final(signal: Signal) -> bool:
    return Signal.objects.get(pk=signal.pk).status in Signal.FINAL_STATUSES


def _one_bracket_each(sim: Any, subs: list[Any], signal: Signal) -> None:
    """Each account: long 1, its entry placed once, no clOrdId placed twice, exactly one
    take-profit and one stop working (the first sending's, or its resend's if it never came)."""
    for account_id, book in broker_books(sim, subs).items():
        placed: Counter[str] = book["placed"]
        assert book["net"] == 1, (account_id, book)
        assert max(placed.values()) == 1, (account_id, placed)
        entries = [c for c in placed if "-entry" in c]  # "-entryr": its run died unsent
        assert len(entries) == 1, (account_id, placed)
        steps = sorted(c.rsplit("-", 1)[1].rstrip("r") for c in book["working"])
        assert steps == ["sl1", "tp1"], (account_id, book["working"])
    outcomes = SignalOutcome.objects.filter(signal=signal)
    assert outcomes.count() == len(subs)
    assert set(outcomes.values_list("status", flat=True)) == {SignalOutcome.Status.DONE}


def test_a_large_signal_is_split_by_login_and_shared_by_worker_processes(
    sim_settings: Any, member: Any, strategy: Strategy, monkeypatch: Any
) -> None:
    """Two worker instances (as `--scale worker=2` runs them), one process each: the signal's
    task runs one chunk and queues the others, which the other worker takes."""
    sim = sim_settings
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("FANOUT_CHUNK_ACCOUNTS", "4")  # 3 logins of 4: three chunks
    sim.control.set_price("MNQZ6", "18000.00")
    subs = logins_follow(sim, user=member, strategy=strategy, logins=3, per_login=4, prefix="ch")
    logs = [log_path_for("fanout-chunks-a"), log_path_for("fanout-chunks-b")]
    with (
        running(worker_cmd(queues="signals"), log_name="", log_path=logs[0]),
        running(worker_cmd(queues="signals"), log_name="", log_path=logs[1]),
    ):
        time.sleep(3)  # both connected to the queue before the alert
        signal = _post(strategy, "buy")
        wait_for(lambda: _final(signal), timeout=60, what="the chunks to finish")
    _one_bracket_each(sim, subs, signal)
    assert Signal.objects.get(pk=signal.pk).status == Signal.Status.DONE
    texts = [Path(log).read_text() for log in logs]
    tasks = [text.count("trading.execute_signal") for text in texts]  # received + succeeded
    chunks = sum(text.count("trading.execute_signal_chunk[") for text in texts)
    assert chunks >= 4, texts  # two chunk tasks, each received and succeeded
    assert all(count > 0 for count in tasks), tasks  # both workers worked on the signal


def test_sigkill_in_the_middle_of_a_100_account_fanout_then_restart_sends_nothing_twice(
    sim_settings: Any, member: Any, strategy: Strategy, monkeypatch: Any
) -> None:
    sim = sim_settings
    for name, value in {
        "SIMULATOR_URL": sim.base_url,
        "TRADOVATE_TIMEOUT_SECONDS": "5",
        "SIGNAL_LEASE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "IN_DOUBT_LOOKUP_DELAYS_SECONDS": "1,1,1,2,2,4",
    }.items():
        monkeypatch.setenv(name, value)
    sim.control.set_price("MNQZ6", "18000.00")
    subs = logins_follow(sim, user=member, strategy=strategy, logins=10, per_login=10, prefix="kf")
    # Every call takes 30 ms: the fan-out lasts long enough to be killed in the middle.
    sim.control.faults(latency_ms=30)

    def sent() -> int:
        requests = sim.control.counters()["requests"]
        return int(requests.get("order/placeorder", 0) + requests.get("order/placeoco", 0))

    with running(worker_cmd(queues="signals", concurrency=2), log_name="fanout-kill-1") as first:
        signal = _post(strategy, "buy")
        wait_for(lambda: sent() >= 60, timeout=60, interval=0.005, what="orders going out")
        os.killpg(first.pid, signals.SIGKILL)  # the whole worker: main process and children
        first.wait(timeout=10)
    at_kill = sent()
    assert at_kill < 200, "the kill came after the fan-out had finished"
    assert not _final(signal)

    time.sleep(1)  # in-flight calls land at the simulator (it carries them out regardless)
    with (
        running(worker_cmd(queues="signals,default", concurrency=2), log_name="fanout-kill-2"),
        running(beat_cmd(), log_name="fanout-kill-beat"),
    ):
        wait_for(lambda: _final(signal), timeout=120, what="the restart to finish the fan-out")

    print(f"killed after {at_kill} order calls of 200; resumed to 100 of 100 accounts")
    unfinished = SignalOutcome.objects.filter(signal=signal).exclude(status="done")
    assert Signal.objects.get(pk=signal.pk).status == Signal.Status.DONE, [
        (o.subaccount.name, o.status, o.decision, o.reason, o.error_message) for o in unfinished
    ]
    _one_bracket_each(sim, subs, signal)
    entries = Counter(
        Order.objects.filter(signal=signal, role=Order.Role.ENTRY).values_list("state", flat=True)
    )
    # Filled once per account; a row whose call the killed run never made says so.
    assert entries[Order.State.FILLED] == 100, entries
    assert set(entries) <= {Order.State.FILLED, Order.State.NEVER_PLACED}, entries
