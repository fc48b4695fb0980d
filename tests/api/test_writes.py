"""Writes through the API land where the pages' writes land: traders and their accounts, copy
groups and followers, a connection's label; the browser session works too, CSRF-checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from copytrade.models import Follower
from tests.api.conftest import bearer
from tests.factories import (
    BrokerConnectionFactory,
    StrategyFactory,
    SubaccountFactory,
    UserFactory,
)
from trading.models import Trader, TraderAccount

pytestmark = pytest.mark.django_db


def _post(client: Client, name: str, body: dict[str, Any]) -> Any:
    return client.post(reverse(name), data=body, content_type="application/json")


def test_a_trader_is_created_put_on_an_account_and_changed(make_key: Any) -> None:
    user = UserFactory.create()
    strategy = StrategyFactory.create(user=user, stop_distance="10", stop_unit="ticks")
    account = SubaccountFactory.create(connection__user=user)
    _, secret = make_key(user, "trade")
    client = bearer(secret)
    made = _post(
        client, "trader-list", {"name": "T1", "strategy": strategy.pk, "switched_off": ["stop"]}
    )
    assert made.status_code == 201, made.json()
    trader = Trader.objects.get(pk=made.json()["id"])
    assert trader.switched_off == ["stop"] and trader.enabled
    added = _post(
        client,
        "trader-account-list",
        {"trader": trader.pk, "subaccount": account.pk, "multiplier": "2", "max_contracts": 3},
    )
    assert added.status_code == 201, added.json()
    row = TraderAccount.objects.get(pk=added.json()["id"])
    assert (row.multiplier, row.max_contracts) == (Decimal(2), 3)
    again = _post(client, "trader-account-list", {"trader": trader.pk, "subaccount": account.pk})
    assert again.status_code == 400  # already on it
    url = reverse("trader-account-detail", args=[row.pk])
    changed = client.patch(url, data={"max_contracts": None}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["max_contracts"] is None
    both = client.patch(
        reverse("trader-detail", args=[trader.pk]),
        data={"stop_distance": "5", "stop_unit": "ticks"},
        content_type="application/json",
    )
    assert both.status_code == 400  # switched off and given a value: the form's rule
    assert "switched_off" in both.json()["error"]["fields"]
    assert client.delete(url).status_code == 204
    assert not TraderAccount.objects.filter(pk=row.pk).exists()


def test_a_copy_group_and_a_follower(make_key: Any) -> None:
    user = UserFactory.create()
    connection = BrokerConnectionFactory.create(user=user)
    leader = SubaccountFactory.create(connection=connection)
    follower_account = SubaccountFactory.create(connection=connection)
    _, secret = make_key(user, "trade")
    client = bearer(secret)
    group = _post(client, "copy-group-list", {"name": "Main", "leader": leader.pk})
    assert group.status_code == 201, group.json()
    group_id = group.json()["id"]
    itself = _post(client, "follower-list", {"group": group_id, "subaccount": leader.pk})
    assert itself.status_code == 400
    made = _post(
        client,
        "follower-list",
        {"group": group_id, "subaccount": follower_account.pk, "symbol_map": {"NQ": "MNQ"}},
    )
    assert made.status_code == 201, made.json()
    follower = Follower.objects.get(pk=made.json()["id"])
    assert follower.symbol_map == {"NQ": "MNQ"}
    url = reverse("follower-detail", args=[follower.pk])
    zero = client.patch(url, data={"ratio": "0"}, content_type="application/json")
    assert zero.status_code == 400 and "ratio of 0" in zero.json()["error"]["message"]
    ok = client.patch(url, data={"max_contracts": 2}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["max_contracts"] == 2
    off = client.patch(
        reverse("copy-group-detail", args=[group_id]),
        data={"enabled": False},
        content_type="application/json",
    )
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert client.delete(url).status_code == 204


def test_a_connection_is_renamed_and_never_shows_secrets(make_key: Any) -> None:
    user = UserFactory.create()
    mine = BrokerConnectionFactory.create(user=user, label="A", username="login")
    BrokerConnectionFactory.create(user=user, label="B")
    _, secret = make_key(user, "trade")
    url = reverse("connection-detail", args=[mine.pk])
    taken = bearer(secret).patch(url, data={"label": "B"}, content_type="application/json")
    assert taken.status_code == 400 and "label" in taken.json()["error"]["fields"]
    renamed = bearer(secret).patch(url, data={"label": "C"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["label"] == "C"
    text = str(renamed.json())
    for word in ("token", "password", "credentials", "secret", "login"):
        assert word not in text


def test_the_browser_session_works_and_is_csrf_checked(member: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get(reverse("strategy-list")).status_code == 200
    refused = _post(client, "strategy-list", {"name": "No token"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
