"""D10 -- a mega-commit made the webhook synchronous: a 4-hour outage while the broker hung.

DISASTERS.md row D10:
    what happened: "mega-commit made the webhook synchronous -> 4 h outage"
    invariant:     "the webhook only validates, stores and enqueues: no broker I/O in the request"
    proof:         "test: broker hangs, webhook still answers fast"

The synchronous call hid behind the commit: the execution was started from the webhook's own
"after commit" hook, so a test that captured those hooks without running them saw a fast
webhook. Here nothing is captured: the database commits for real (as in production, where each
request autocommits), through both doors (the ASGI door production serves and the Django
view), with every broker call hanging. The webhook answers fast, the broker saw no request
from it, the execution is a message on the ``signals`` queue, and that message, run as the
worker runs it once the broker is back, is what trades.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from config.redis import redis_client
from tests.signals.helpers import asgi_request, position
from trading.models import Signal, Strategy, TraderAccount
from trading.tasks import execute_signal

pytestmark = pytest.mark.django_db(transaction=True)

BROKER_TIMEOUT_SECONDS = 10  # what one hung broker call would cost the webhook
FAST_SECONDS = 3.0  # far above a webhook's real time, far below one hung broker call
BODY = b'{"action": "buy", "ticker": "MNQZ6"}'


def _via_asgi(path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    response = asgi_request("POST", path, body)
    return response.status_code, response.json()


def _via_django_view(path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    response = Client().post(path, data=body, content_type="text/plain")
    return response.status_code, response.json()


def _queued_signal_messages() -> dict[int, str]:
    """The ``signals`` queue's execute_signal messages in Redis: {signal id: raw message}."""
    key = f"{settings.REDIS_KEY_PREFIX}:celery:signals"
    found: dict[int, str] = {}
    for item in redis_client().lrange(key, 0, -1):
        raw = item.decode() if isinstance(item, bytes) else str(item)
        message = json.loads(raw)
        if message["headers"].get("task") != "trading.execute_signal":
            continue
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found[int(args[0])] = raw
    return found


@pytest.mark.parametrize("door", [_via_asgi, _via_django_view], ids=["asgi-door", "django-view"])
def test_a_hanging_broker_does_not_slow_the_webhook(
    trader_account: TraderAccount,
    strategy: Strategy,
    sim: Any,
    settings: Any,
    door: Callable[[str, bytes], tuple[int, dict[str, Any]]],
) -> None:
    settings.TRADOVATE_TIMEOUT_SECONDS = BROKER_TIMEOUT_SECONDS
    sim.control.set_price("MNQZ6", "18000.00")
    path = f"/webhooks/tradingview/{strategy.webhook_token}/"
    assert door("/webhooks/tradingview/warm-up/", b"{}")[0] == 404  # imports, URL resolver
    sim.control.faults(hang={"count": 100, "seconds": 30})
    before = sum(sim.control.counters()["requests"].values())

    started = time.monotonic()
    status, body = door(path, BODY)
    elapsed = time.monotonic() - started

    assert (status, body["status"]) == (200, "accepted"), body
    assert elapsed < FAST_SECONDS, f"the webhook took {elapsed:.1f} s with the broker hanging"
    assert sum(sim.control.counters()["requests"].values()) == before  # no broker I/O at all
    signal = Signal.objects.get(pk=body["signal_id"])
    assert signal.status == Signal.Status.RECEIVED and not signal.outcomes.exists()
    queued = _queued_signal_messages()
    assert signal.pk in queued, "the webhook did not enqueue the signal's execution"

    # The broker is back: the queued message, run as the worker runs it, is what trades.
    redis_client().lrem(f"{settings.REDIS_KEY_PREFIX}:celery:signals", 1, queued[signal.pk])
    sim.control.faults(hang=None)
    execute_signal(signal.pk)
    signal.refresh_from_db()
    assert signal.status == Signal.Status.DONE
    assert signal.outcomes.get().decision == "open"
    assert position(sim) == 1
