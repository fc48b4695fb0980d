"""Driving the position monitor end to end: real worker and ``run_streams`` processes, real
PostgreSQL and Redis, the simulator as the broker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client

from tests.processes import running, streams_cmd, wait_for, worker_cmd
from trading.models import Signal, SignalOutcome, Strategy

SYMBOL = "MNQZ6"  # tick 0.25


@contextmanager
def worker_and_monitor(simulator_url: str) -> Iterator[Any]:
    """A signals worker and the monitor (refreshing every 0.5 s), both on this simulator."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIMULATOR_URL", simulator_url)
        with (
            running(worker_cmd(queues="signals"), log_name="worker-monitor"),
            running(
                streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-monitor"
            ) as streams,
        ):
            yield streams


def set_settings(strategy: Strategy, **fields: Any) -> None:
    Strategy.objects.filter(pk=strategy.pk).update(**fields)


def send_signal(strategy: Strategy, **fields: Any) -> SignalOutcome:
    """A webhook, executed by the real worker; the one outcome once the signal is done."""
    response = Client().post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        data=json.dumps(fields),
        content_type="text/plain",
    )
    assert response.status_code == 200, response.content
    signal_id = response.json()["signal_id"]
    wait_for(
        lambda: Signal.objects.get(pk=signal_id).status == Signal.Status.DONE,
        timeout=60,
        what="the worker to execute the signal",
    )
    outcome = SignalOutcome.objects.get(signal_id=signal_id)
    assert outcome.status == SignalOutcome.Status.DONE, outcome.reason
    return outcome


def sim_stop(sim: Any, account_id: int = 1001) -> tuple[int, float]:
    """The one working stop order at the simulator: (order id, its current stop price)."""
    state = sim.control.state()
    latest: dict[int, dict[str, Any]] = {}
    for version in state["orderVersions"]:
        if version["orderId"] not in latest or version["id"] > latest[version["orderId"]]["id"]:
            latest[version["orderId"]] = version
    stops = [
        (order["id"], latest[order["id"]]["stopPrice"])
        for order in state["orders"]
        if order["accountId"] == account_id
        and order["ordStatus"] == "Working"
        and latest[order["id"]]["orderType"] == "Stop"
    ]
    assert len(stops) == 1, stops
    return stops[0]


def modifies(sim: Any) -> int:
    count: int = sim.control.counters()["requests"].get("order/modifyorder", 0)
    return count


def wait_until_watched(sim: Any) -> None:
    """The monitor has subscribed to the symbol and read the position once (its first quote
    comes with the subscription)."""
    wait_for(
        lambda: sim.control.counters()["requests"].get("md/subscribequote", 0) >= 1,
        timeout=20,
        what="the monitor to subscribe to quotes",
    )
    wait_for(
        lambda: sim.control.counters()["requests"].get("orderversion/deps", 0) >= 1,
        timeout=20,
        what="the monitor to read the position and its stop",
    )


def open_watched(
    strategy: Strategy, sim: Any, *, action: str, alert_id: str, **settings: Any
) -> tuple[SignalOutcome, int, float]:
    """Set the strategy's exit settings, open a position by a real signal and wait until the
    monitor watches it: (the outcome, the stop's order id at the simulator, its stop price)."""
    set_settings(strategy, **settings)
    outcome = send_signal(strategy, action=action, ticker=SYMBOL, id=alert_id)
    assert outcome.decision == "open", outcome.reason
    order_id, stop = sim_stop(sim)
    wait_until_watched(sim)
    return outcome, order_id, stop


def settle(seconds: float = 1.5) -> None:
    """Time for the monitor to act on a quote, when the point is that it does nothing."""
    time.sleep(seconds)


def reason(outcome: SignalOutcome) -> str:
    return SignalOutcome.objects.get(pk=outcome.pk).reason
