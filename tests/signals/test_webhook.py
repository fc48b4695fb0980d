"""The TradingView webhook: store, enqueue after commit, answer; duplicates execute nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.factories import StrategyFactory
from trading.models import Signal, Strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def strategy_for_webhook(user: Any) -> Strategy:
    return StrategyFactory.create(user=user)


def _url(strategy: Strategy) -> str:
    return f"/webhooks/tradingview/{strategy.webhook_token}/"


def _post(
    client: Client, strategy: Strategy, body: str | bytes, content_type: str = "text/plain"
) -> Any:
    return client.post(_url(strategy), data=body, content_type=content_type)


def test_an_alert_is_stored_and_enqueued_after_commit(
    strategy_for_webhook: Strategy, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(Client(), strategy_for_webhook, '{"action": "buy", "ticker": "MNQZ2026"}')
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    signal = Signal.objects.get(pk=body["signal_id"])
    assert (signal.action, signal.symbol, signal.status) == ("buy", "MNQZ2026", "received")
    assert len(callbacks) == 1


def test_a_body_that_is_not_json_is_a_400_with_the_reason_and_is_kept(
    strategy_for_webhook: Strategy,
) -> None:
    response = _post(Client(), strategy_for_webhook, "BUY MNQ now please")
    assert response.status_code == 400
    assert "not JSON" in response.json()["reason"]
    signal = Signal.objects.get(pk=response.json()["signal_id"])
    assert signal.status == Signal.Status.REJECTED and signal.raw_body == "BUY MNQ now please"


def test_an_unknown_action_lists_the_accepted_words(strategy_for_webhook: Strategy) -> None:
    response = _post(Client(), strategy_for_webhook, '{"action": "moon", "ticker": "NQ1!"}')
    assert response.status_code == 400
    assert "accepted: buy, long, sell, short, close" in response.json()["reason"]


def test_same_alert_id_twice_is_a_duplicate_that_executes_nothing(
    strategy_for_webhook: Strategy, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    body = '{"id": "tv-123", "action": "sell", "ticker": "NQ1!"}'
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _post(client, strategy_for_webhook, body).json()
        second = _post(client, strategy_for_webhook, body.replace("sell", "buy")).json()
    assert second == {"status": "duplicate", "signal_id": first["signal_id"]}
    assert len(callbacks) == 1
    assert Signal.objects.count() == 1


def test_the_same_body_within_the_window_is_a_duplicate(strategy_for_webhook: Strategy) -> None:
    client = Client()
    body = '{"action": "buy", "ticker": "NQ1!", "price": 18000.25}'
    first = _post(client, strategy_for_webhook, body).json()
    assert _post(client, strategy_for_webhook, body).json()["status"] == "duplicate"
    assert first["status"] == "accepted"


def test_unknown_webhook_url_is_a_404_saying_so() -> None:
    response = Client().post(
        "/webhooks/tradingview/not-a-token/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert "No strategy has this webhook URL" in response.json()["reason"]


def test_only_post(strategy_for_webhook: Strategy) -> None:
    assert Client().get(_url(strategy_for_webhook)).status_code == 405


def test_json_content_type_and_strategy_alert_fields(strategy_for_webhook: Strategy) -> None:
    body = json.dumps(
        {
            "action": "sell",
            "market_position": "flat",
            "ticker": "MNQZ6",
            "quantity": "2",
            "price": "18000.5",
        }
    )
    response = _post(Client(), strategy_for_webhook, body, content_type="application/json")
    assert response.status_code == 200
    assert Signal.objects.get().action == "close"  # market_position decides (D46)
