"""The door production uses: ``config.asgi.application`` answers TradingView's webhook itself
(past Django's middleware), exactly as the Django view does. Driven through the real ASGI app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import StrategyFactory
from tests.signals.helpers import asgi_request
from trading.alerts import MAX_BODY_BYTES
from trading.models import Signal, Strategy

pytestmark = pytest.mark.django_db(transaction=True)


_send = asgi_request


@pytest.fixture
def hooked(user: Any) -> Strategy:
    return StrategyFactory.create(user=user)


def _path(strategy: Strategy) -> str:
    return f"/webhooks/tradingview/{strategy.webhook_token}/"


def test_an_alert_is_stored_and_answered_with_its_id(hooked: Strategy) -> None:
    response = _send("POST", _path(hooked), b'{"action": "buy", "ticker": "MNQZ2026", "id": "a1"}')
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    assert body["status"] == "accepted"
    signal = Signal.objects.get(pk=body["signal_id"])
    assert (signal.strategy_id, signal.action, signal.status) == (hooked.pk, "buy", "received")
    again = _send("POST", _path(hooked), b'{"action": "buy", "ticker": "MNQZ2026", "id": "a1"}')
    assert again.json() == {"status": "duplicate", "signal_id": signal.pk}
    assert Signal.objects.count() == 1


def test_bad_alerts_unknown_urls_and_switched_off_strategies_say_why(hooked: Strategy) -> None:
    bad = _send("POST", _path(hooked), b"BUY MNQ now please")
    assert bad.status_code == 400 and "not JSON" in bad.json()["reason"]
    assert Signal.objects.get(pk=bad.json()["signal_id"]).raw_body == "BUY MNQ now please"
    unknown = _send("POST", "/webhooks/tradingview/no-such-token/", b"{}")
    assert unknown.status_code == 404 and "Copy the URL again" in unknown.json()["reason"]
    Strategy.objects.filter(pk=hooked.pk).update(enabled=False)
    off = _send("POST", _path(hooked), b'{"action": "buy"}')
    assert off.status_code == 409 and off.json()["reason"] == "This strategy is switched off."


def test_an_oversized_body_is_a_413_and_nothing_is_stored(hooked: Strategy) -> None:
    response = _send("POST", _path(hooked), b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert f"over {MAX_BODY_BYTES} bytes" in response.json()["reason"]
    assert not Signal.objects.exists()


def test_what_the_door_does_not_take_goes_to_django(hooked: Strategy) -> None:
    """A GET is Django's 405, a foreign Host Django's 400: same answers as before the door."""
    assert _send("GET", _path(hooked)).status_code == 405
    assert _send("POST", _path(hooked), b"{}", host="evil.example").status_code == 400
    assert not Signal.objects.exists()


def test_a_database_failure_is_a_503_saying_so_not_a_bare_500(
    hooked: Strategy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    monkeypatch.setitem(connections["default"].settings_dict, "PORT", "1")  # PostgreSQL gone
    monkeypatch.setitem(connections["default"].settings_dict, "OPTIONS", {"connect_timeout": 1})
    connections.close_all()
    response = _send("POST", _path(hooked), json.dumps({"action": "buy"}).encode())
    assert response.status_code == 503
    assert "could not store the alert" in response.json()["reason"]
