"""D16 — a signal-blocking change in the webhook handler stopped all brackets.

Invariant: end to end, kept in the suite: a webhook POST -> the Celery worker (a real process
on Redis) -> entry + take-profit + stop at the broker (the simulator).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.processes import running, wait_for, worker_cmd
from tests.signals.helpers import asgi_request, position, working
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_webhook_becomes_entry_take_profit_and_stop(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    sim.control.set_price("MNQZ6", "18000.00")
    with running(worker_cmd(queues="signals"), log_name="worker-d16"):
        response = asgi_request(  # through the app production serves, webhook door included
            "POST",
            f"/webhooks/tradingview/{strategy.webhook_token}/",
            b'{"action": "buy", "ticker": "MNQZ2026", "price": "18000"}',
        )
        assert response.status_code == 200
        signal = Signal.objects.get(pk=response.json()["signal_id"])
        wait_for(
            lambda: Signal.objects.get(pk=signal.pk).status == Signal.Status.DONE,
            timeout=60,
            what="the worker to execute the signal",
        )
    outcome = SignalOutcome.objects.get(signal=signal)
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "open")
    assert position(sim) == 1
    roles = sorted(Order.objects.filter(outcome=outcome).values_list("role", flat=True))
    assert roles == ["entry", "stop", "take_profit"]
    assert {o["clOrdId"] for o in working(sim)} == {
        f"bk{signal.pk}-{trader_account.pk}-tp1",
        f"bk{signal.pk}-{trader_account.pk}-sl1",
    }
