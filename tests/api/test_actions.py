"""The actions of the pages through the API: a test alert becomes a signal, a trader switches
off and on, close-all answers per account in the broker's words, the webhook URL rotates."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.api.conftest import bearer
from tests.factories import StrategyFactory, TraderAccountFactory, UserFactory
from trading.models import Signal

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_key: Any) -> dict[str, Any]:
    user = UserFactory.create()
    account = TraderAccountFactory.create(
        trader__strategy__user=user, subaccount__connection__user=user
    )
    _, secret = make_key(user, "trade")
    return {"user": user, "account": account, "client": bearer(secret)}


def test_a_test_alert_is_stored_as_a_test_signal(setup: dict[str, Any]) -> None:
    strategy = setup["account"].trader.strategy
    response = setup["client"].post(
        reverse("strategy-test-alert", args=[strategy.pk]),
        data={"action": "sell", "symbol": "MES1!"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    signal = Signal.objects.get(pk=response.json()["signal"])
    assert (signal.is_test, signal.action, signal.strategy_id) == (True, "sell", strategy.pk)
    listed = setup["client"].get(reverse("signal-list"), {"strategy": strategy.pk}).json()
    assert [row["id"] for row in listed["results"]] == [signal.pk]
    bad = setup["client"].post(
        reverse("strategy-test-alert", args=[strategy.pk]),
        data={"action": "buy", "symbol": "NOPE"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "symbol" in bad.json()["error"]["fields"]


def test_a_trader_switches_off_and_on(setup: dict[str, Any]) -> None:
    trader = setup["account"].trader
    off = setup["client"].post(reverse("trader-disable", args=[trader.pk]))
    assert off.status_code == 200 and off.json()["enabled"] is False
    on = setup["client"].post(reverse("trader-enable", args=[trader.pk]))
    assert on.status_code == 200 and on.json()["enabled"] is True


def test_close_all_answers_per_account_in_the_brokers_words(setup: dict[str, Any]) -> None:
    trader = setup["account"].trader
    response = setup["client"].post(reverse("trader-close-all", args=[trader.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["all_ok"] is False  # the connection has no login: said, nothing closed
    assert [a["account"] for a in body["accounts"]] == [setup["account"].subaccount_id]
    assert body["accounts"][0]["errors"]
    stale = setup["client"].post(
        reverse("trader-close-all", args=[trader.pk]),
        data={"fingerprint": "not-what-is-open"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"


def test_rotating_the_token_changes_the_webhook_url(setup: dict[str, Any]) -> None:
    strategy = StrategyFactory.create(user=setup["user"])
    url = reverse("strategy-detail", args=[strategy.pk])
    before = setup["client"].get(url).json()["webhook_url"]
    after = setup["client"].post(reverse("strategy-rotate-token", args=[strategy.pk])).json()
    assert after["webhook_url"] != before
    strategy.refresh_from_db()
    assert strategy.webhook_token in after["webhook_url"]


def test_a_strategy_is_changed_and_archived(setup: dict[str, Any]) -> None:
    strategy = StrategyFactory.create(user=setup["user"], entry_size=1)
    url = reverse("strategy-detail", args=[strategy.pk])
    changed = setup["client"].patch(
        url, data={"stop_distance": "12", "stop_unit": "ticks"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["entry_size"], changed.json()["stop_distance"]) == (1, "12.000000")
    assert setup["client"].delete(url).status_code == 204
    strategy.refresh_from_db()
    assert strategy.archived_at is not None
    assert strategy.pk not in [
        r["id"] for r in setup["client"].get(reverse("strategy-list")).json()["results"]
    ]
    refused = setup["client"].patch(url, data={"entry_size": 2}, content_type="application/json")
    assert refused.status_code == 409
