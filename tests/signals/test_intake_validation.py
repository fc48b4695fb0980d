"""Input that should never reach a broker is refused at the door (issue 9 §3): an unknown or
unreadable symbol, or a root not on the strategy's allow-list, is a 400 with the reason and a
rejected Signal, through the Django view and through the ASGI door production uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.factories import StrategyFactory, TraderFactory
from tests.signals.helpers import asgi_request
from trading.models import Signal, Strategy

pytestmark = pytest.mark.django_db(transaction=True)

Post = Callable[[Strategy, dict[str, Any]], tuple[int, dict[str, Any]]]


def _via_view(strategy: Strategy, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        data=json.dumps(body),
        content_type="text/plain",
    )
    return response.status_code, response.json()


def _via_asgi(strategy: Strategy, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = asgi_request(
        "POST", f"/webhooks/tradingview/{strategy.webhook_token}/", json.dumps(body).encode()
    )
    return response.status_code, response.json()


DOORS = pytest.mark.parametrize("post", [_via_view, _via_asgi], ids=["django-view", "asgi-door"])


@DOORS
@pytest.mark.parametrize(
    ("ticker", "words"),
    [
        ("XYZQ1!", "Unknown contract root 'XYZQ'"),
        ("FOOZ2026", "Unknown contract root 'FOO'"),
        ("NQ", "cannot be read: No year in 'NQ'"),
        ("ESF2027", "ES has no Jan contract"),
    ],
)
def test_an_unknown_or_unreadable_symbol_is_rejected_with_the_reason(
    post: Post, ticker: str, words: str, user: Any
) -> None:
    strategy = StrategyFactory.create(user=user)
    status, body = post(strategy, {"action": "buy", "ticker": ticker})
    assert status == 400, body
    assert body["status"] == "rejected"
    assert words in body["reason"]
    assert "Error" not in body["reason"]  # words, not a Python class name
    signal = Signal.objects.get(pk=body["signal_id"])
    assert signal.status == Signal.Status.REJECTED
    assert signal.rejection_reason == body["reason"]
    assert not signal.outcomes.exists()


@DOORS
def test_a_known_symbol_is_accepted(post: Post, user: Any) -> None:
    strategy = StrategyFactory.create(user=user)
    status, body = post(strategy, {"action": "buy", "ticker": "CME_MINI:MNQZ2026"})
    assert (status, body["status"]) == (200, "accepted")


@DOORS
def test_a_strategy_symbol_override_makes_the_alerts_ticker_irrelevant(
    post: Post, user: Any
) -> None:
    strategy = StrategyFactory.create(user=user, symbol_override="MNQ1!", symbol_allow_list=["ES"])
    status, body = post(strategy, {"action": "buy", "ticker": "SPX"})
    assert (status, body["status"]) == (200, "accepted"), body


def test_when_every_trader_sets_its_own_symbol_the_alerts_ticker_is_not_judged(
    user: Any,
) -> None:
    strategy = StrategyFactory.create(user=user)
    TraderFactory.create(strategy=strategy, symbol_override="MES1!")
    TraderFactory.create(strategy=strategy, symbol_override="ES1!")
    TraderFactory.create(strategy=strategy, enabled=False)  # off: it trades nothing
    status, body = _via_view(strategy, {"action": "buy", "ticker": "SPX"})
    assert (status, body["status"]) == (200, "accepted"), body
    TraderFactory.create(strategy=strategy)  # one trader trades the alert's own ticker
    status, body = _via_view(strategy, {"action": "sell", "ticker": "SPX"})
    assert status == 400 and "cannot be read" in body["reason"]


@DOORS
def test_a_root_not_on_the_allow_list_is_rejected_with_the_list(post: Post, user: Any) -> None:
    strategy = StrategyFactory.create(user=user, symbol_allow_list=["NQ", "MNQ"])
    status, body = post(strategy, {"action": "buy", "ticker": "ES1!"})
    assert status == 400, body
    assert body["reason"] == (
        "The alert's symbol 'ES1!' is ES, which this strategy does not trade: its symbol "
        "allow-list is NQ, MNQ. Nothing was traded."
    )
    assert Signal.objects.get(pk=body["signal_id"]).status == Signal.Status.REJECTED
    status, body = post(strategy, {"action": "buy", "ticker": "MNQZ2026"})
    assert (status, body["status"]) == (200, "accepted"), body
