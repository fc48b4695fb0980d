"""D10 — a mega-commit made the webhook synchronous: a 4-hour outage while the broker hung.

Invariant: the webhook only validates, stores and enqueues. With the broker hanging on every
call, the webhook still answers at once and the broker sees no request from it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db


def test_a_hanging_broker_does_not_slow_the_webhook(
    trader_account: TraderAccount,
    strategy: Strategy,
    sim: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sim.control.faults(hang={"count": 100, "seconds": 30})
    before = sum(sim.control.counters()["requests"].values())
    client = Client()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            f"/webhooks/tradingview/{strategy.webhook_token}/",
            data='{"action": "buy", "ticker": "MNQZ6"}',
            content_type="text/plain",
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 0.5
    assert sum(sim.control.counters()["requests"].values()) == before
    sim.control.faults(hang=None)
