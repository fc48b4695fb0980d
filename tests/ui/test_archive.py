"""Archiving strategies and traders: a confirmation that lists what stops, nothing deleted,
an archived strategy's webhook stores nothing, archived items leave the lists."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import (
    StrategyFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
    UserFactory,
)
from trading import control
from trading.models import Signal, Strategy, Trader

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(member: User) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _webhook(strategy: Strategy) -> tuple[int, dict[str, str]]:
    response = Client(enforce_csrf_checks=True).post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        data=json.dumps({"action": "buy", "ticker": "MNQ1!", "id": "after-archive"}),
        content_type="application/json",
    )
    return response.status_code, response.json()


def test_archiving_a_public_strategy_lists_what_stops_then_its_webhook_stores_nothing(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, name="Public one", visibility="public")
    mine = TraderFactory.create(strategy=strategy, name="My follower")
    TraderAccountFactory.create(
        trader=mine, subaccount=SubaccountFactory.create(connection__user=member, name="DEMO7")
    )
    for _ in range(2):  # two subscribers, one account each
        subscriber = UserFactory.create()
        theirs = TraderFactory.create(strategy=strategy, user=subscriber)
        TraderAccountFactory.create(
            trader=theirs, subaccount=SubaccountFactory.create(connection__user=subscriber)
        )
    old = Signal.objects.create(
        strategy=strategy, idempotency_key="before", raw_body="{}", status=Signal.Status.DONE
    )
    url = reverse("trading:strategy_archive", args=[strategy.pk])
    confirm = member_client.get(url).content.decode()
    assert "My follower" in confirm and "DEMO7" in confirm
    assert "2 subscriber traders of 2 other users, on 2 enabled accounts" in confirm
    assert _webhook(strategy)[0] == 200  # not archived yet: a GET changed nothing
    response = member_client.post(url)
    assert response.status_code == 302
    strategy.refresh_from_db()
    assert strategy.archived_at is not None and strategy.enabled is False
    before = Signal.objects.count()
    status, body = _webhook(strategy)
    assert status == 410
    assert body["status"] == "archived"
    assert "archived on" in body["reason"] and "not stored or executed" in body["reason"]
    assert Signal.objects.count() == before  # nothing stored, so nothing can execute
    assert Signal.objects.filter(pk=old.pk).exists()  # history survives
    assert Trader.objects.filter(strategy=strategy).count() == 3
    # The test alert refuses too, and the strategy is gone from the lists.
    member_client.post(reverse("trading:strategy_test_alert", args=[strategy.pk]))
    assert Signal.objects.count() == before
    listing = member_client.get(reverse("trading:strategy_list")).content.decode()
    assert ">Public one</a>" not in listing
    assert "Show 1 archived strategy" in listing
    shown = member_client.get(reverse("trading:strategy_list") + "?archived=1").content.decode()
    assert '>Public one</a> <span class="badge">archived</span>' in shown
    assert strategy not in control.strategies_followable(user=UserFactory.create())
    # Restored: back in the list, still off.
    member_client.post(reverse("trading:strategy_restore", args=[strategy.pk]))
    strategy.refresh_from_db()
    assert strategy.archived_at is None and strategy.enabled is False
    assert ">Public one</a>" in member_client.get(reverse("trading:strategy_list")).content.decode()


def test_archiving_a_trader_switches_it_off_hides_it_and_keeps_its_history(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member)
    trader = TraderFactory.create(strategy=strategy, name="Going away", enabled=True)
    account = TraderAccountFactory.create(
        trader=trader, subaccount=SubaccountFactory.create(connection__user=member, name="ACC1")
    )
    url = reverse("trading:trader_archive", args=[trader.pk])
    confirm = member_client.get(url).content.decode()
    assert "ACC1" in confirm and "stops trading" in confirm
    assert member_client.post(url).status_code == 302
    trader.refresh_from_db()
    assert trader.archived_at is not None and trader.enabled is False
    account.refresh_from_db()  # not deleted
    for page in ("trading:trader_list", "trading:control"):
        assert ">Going away</a>" not in member_client.get(reverse(page)).content.decode(), page
    toggle = reverse("trading:trader_toggle", args=[trader.pk])
    member_client.post(toggle, {"enabled": "on"})
    trader.refresh_from_db()
    assert trader.enabled is False  # an archived trader cannot be switched on
    edit = member_client.get(reverse("trading:trader_edit", args=[trader.pk]))
    assert edit.status_code == 302
    listing = member_client.get(reverse("trading:trader_list") + "?archived=1").content.decode()
    assert ">Going away</a>" in listing


def test_an_archived_trader_frees_its_place_in_the_plan(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member)
    traders = [TraderFactory.create(strategy=strategy) for _ in range(3)]
    member_client.post(reverse("trading:trader_archive", args=[traders[0].pk]))
    page = member_client.get(reverse("billing:overview")).content.decode()
    row = page.split("<td>Traders</td>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2</td>' in row


def test_another_tenant_cannot_archive_or_see_the_confirmation(
    member: User, other_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member)
    trader = TraderFactory.create(strategy=strategy)
    for name, pk in (
        ("trading:strategy_archive", strategy.pk),
        ("trading:trader_archive", trader.pk),
    ):
        assert other_client.get(reverse(name, args=[pk])).status_code == 404
        assert other_client.post(reverse(name, args=[pk])).status_code == 404
    strategy.refresh_from_db()
    trader.refresh_from_db()
    assert strategy.archived_at is None and trader.archived_at is None
