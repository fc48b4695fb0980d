"""The trading UI's views with the Django test client: owner 200, other tenant 404, bad input 400."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
from trading.forms import SETTING_NAMES, StrategyForm, TraderForm
from trading.models import Signal, SignalOutcome, Strategy, Trader, TraderAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(member: User) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _strategy_post(**overrides: str) -> dict[str, str]:
    data = {"name": "MNQ open", "visibility": "private", "enabled": "on"}
    data.update(overrides)
    return data


def test_every_setting_has_a_form_field_of_the_same_name() -> None:
    """D21: one name from model to form; a new setting without a field fails here."""
    strategy_fields = set(StrategyForm(user=UserFactory.build()).fields)
    trader_fields = set(
        TraderForm(user=UserFactory.build(), strategies=Strategy.objects.none()).fields
    )
    assert set(SETTING_NAMES) <= strategy_fields
    assert set(SETTING_NAMES) <= trader_fields


def test_create_a_strategy_with_zeros_and_nulls_kept_apart(
    member: User, member_client: Client
) -> None:
    response = member_client.post(
        reverse("trading:strategy_create"),
        _strategy_post(
            entry_size="0",
            cooldown_seconds="",
            max_daily_loss="0",
            use_alert_quantity="False",
            on_same_direction="add",
            **{
                "take_profits-mode": "rows",
                "take_profits-0-distance": "8",
                "take_profits-0-unit": "ticks",
                "take_profits-0-qty": "50",
                "take_profits-0-qty_unit": "percent",
                "take_profits-1-distance": "1.5",
                "take_profits-1-unit": "points",
                "take_profits-1-qty": "1",
                "take_profits-1-qty_unit": "contracts",
                "time_windows-mode": "none",
            },
        ),
    )
    assert response.status_code == 302
    strategy = Strategy.objects.get(user=member)
    assert strategy.entry_size == 0
    assert strategy.cooldown_seconds is None
    assert strategy.max_daily_loss == Decimal(0)
    assert strategy.use_alert_quantity is False
    assert strategy.invert_signals is None
    assert strategy.on_same_direction == "add"
    assert strategy.take_profits == [
        {"distance": "8", "unit": "ticks", "qty": "50", "qty_unit": "percent"},
        {"distance": "1.5", "unit": "points", "qty": "1", "qty_unit": "contracts"},
    ]
    assert strategy.time_windows == []
    assert strategy.symbol_override is None


def test_a_strategy_without_a_plan_is_refused_with_the_reason(owner_client: Client) -> None:
    response = owner_client.post(reverse("trading:strategy_create"), _strategy_post())
    assert response.status_code == 400
    assert "no active membership" in response.content.decode()
    assert not Strategy.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("entry_size", "-1", "At least 0."),
        ("on_same_direction", "avg_down", "Select a valid choice"),
        ("take_profits-0-distance", "eight", "is not a number"),
        ("time_windows-0-start", "25:00", "HH:MM"),
    ],
)
def test_bad_strategy_input_is_a_400_with_the_reason(
    member_client: Client, field: str, value: str, words: str
) -> None:
    data = _strategy_post(**{field: value})
    if field.startswith("take_profits"):
        data.update({"take_profits-0-qty": "1"})
    if field.startswith("time_windows"):
        data.update({"time_windows-0-end": "10:00"})
    response = member_client.post(reverse("trading:strategy_create"), data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Strategy.objects.exists()


def test_the_strategy_page_shows_the_webhook_url_and_alert_json(
    member: User, member_client: Client, settings: Any
) -> None:
    settings.SITE_URL = "https://bracketeer.example"
    strategy = StrategyFactory.create(user=member)
    page = member_client.get(reverse("trading:strategy_detail", args=[strategy.pk])).content
    text = page.decode()
    assert f"https://bracketeer.example/webhooks/tradingview/{strategy.webhook_token}/" in text
    assert (
        "{&quot;action&quot;: &quot;buy&quot;, &quot;ticker&quot;: &quot;{{ticker}}&quot;" in text
    )
    assert "{{strategy.market_position}}" in text
    assert "{{strategy.order.contracts}}" in text


def test_send_test_alert_stores_a_test_signal_and_shows_it(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, symbol_override="MESZ2026")
    response = member_client.post(
        reverse("trading:strategy_test_alert", args=[strategy.pk]), {"action": "sell"}
    )
    signal = Signal.objects.get(strategy=strategy)
    assert response.status_code == 302
    assert response["Location"] == reverse("trading:signal_detail", args=[signal.pk])
    assert (signal.is_test, signal.action, signal.symbol) == (True, "SELL".lower(), "MESZ2026")
    bad = member_client.post(
        reverse("trading:strategy_test_alert", args=[strategy.pk]), {"action": "yolo"}
    )
    assert bad.status_code == 400


def test_another_tenants_strategy_is_a_404_on_read_and_write(
    member: User, other_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, name="Mine")
    for name in ("trading:strategy_detail", "trading:strategy_edit"):
        assert other_client.get(reverse(name, args=[strategy.pk])).status_code == 404
    url = reverse("trading:strategy_edit", args=[strategy.pk])
    assert other_client.post(url, _strategy_post(name="Stolen")).status_code == 404
    test_alert = reverse("trading:strategy_test_alert", args=[strategy.pk])
    assert other_client.post(test_alert, {"action": "buy"}).status_code == 404
    strategy.refresh_from_db()
    assert strategy.name == "Mine"
    assert not Signal.objects.exists()


def test_a_trader_can_follow_a_public_strategy_but_not_a_private_one(
    member: User, member_client: Client
) -> None:
    public = StrategyFactory.create(visibility="public", name="Vendor public")
    private = StrategyFactory.create(visibility="private", name="Vendor private")
    url = reverse("trading:trader_create")
    refused = member_client.post(url, {"name": "T1", "strategy": private.pk, "enabled": "on"})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    accepted = member_client.post(url, {"name": "T1", "strategy": public.pk, "entry_size": "0"})
    assert accepted.status_code == 302
    trader = Trader.objects.get(user=member)
    assert (trader.strategy, trader.entry_size, trader.add_size) == (public, 0, None)


def test_the_trader_form_shows_what_an_empty_field_inherits(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, entry_size=3, on_same_direction="add")
    trader = TraderFactory.create(strategy=strategy)
    text = member_client.get(reverse("trading:trader_edit", args=[trader.pk])).content.decode()
    assert 'placeholder="Inherit (3)"' in text
    assert "Inherit (Add to the position (DCA))" in text


def test_a_foreign_trading_account_is_rejected(member: User, member_client: Client) -> None:
    trader = TraderFactory.create(strategy__user=member)
    foreign = SubaccountFactory.create()  # another user's connection
    own = SubaccountFactory.create(connection__user=member)
    url = reverse("trading:trader_account_add", args=[trader.pk])
    refused = member_client.post(url, {"subaccount": foreign.pk, "multiplier": "1"})
    assert refused.status_code == 400
    assert not TraderAccount.objects.exists()
    added = member_client.post(
        url, {"subaccount": own.pk, "multiplier": "2", "max_contracts": "", "enabled": "on"}
    )
    assert added.status_code == 302
    account = TraderAccount.objects.get(trader=trader)
    assert (account.multiplier, account.max_contracts, account.enabled) == (Decimal(2), None, True)
    again = member_client.post(url, {"subaccount": own.pk, "multiplier": "1"})
    assert again.status_code == 400
    assert "already on this trader" in again.content.decode()


def test_another_tenant_cannot_touch_a_trader_or_its_accounts(
    member: User, other_client: Client, other_user: User
) -> None:
    account = TraderAccountFactory.create(
        trader__strategy__user=member, subaccount__connection__user=member
    )
    trader = account.trader
    own_sub = SubaccountFactory.create(connection__user=other_user)
    for url in (
        reverse("trading:trader_detail", args=[trader.pk]),
        reverse("trading:trader_edit", args=[trader.pk]),
        reverse("trading:trader_account_edit", args=[account.pk]),
        reverse("trading:trader_close", args=[trader.pk]),
        reverse("trading:account_close", args=[account.subaccount_id]),
    ):
        assert other_client.get(url).status_code == 404, url
    posts = {
        reverse("trading:trader_edit", args=[trader.pk]): {"name": "x", "strategy": "1"},
        reverse("trading:trader_account_add", args=[trader.pk]): {
            "subaccount": own_sub.pk,
            "multiplier": "1",
        },
        reverse("trading:trader_account_edit", args=[account.pk]): {"multiplier": "9"},
        reverse("trading:trader_account_remove", args=[account.pk]): {},
        reverse("trading:trader_toggle", args=[trader.pk]): {"enabled": "off"},
        reverse("trading:trader_close", args=[trader.pk]): {"fingerprint": "x"},
        reverse("trading:account_close", args=[account.subaccount_id]): {"fingerprint": "x"},
    }
    for url, data in posts.items():
        assert other_client.post(url, data).status_code == 404, url
    account.refresh_from_db()
    trader.refresh_from_db()
    assert account.multiplier == Decimal(1)
    assert trader.enabled is True
    assert trader.name != "x"
    assert TraderAccount.objects.filter(trader=trader).count() == 1


def test_max_contracts_empty_is_no_cap_and_zero_is_zero(
    member: User, member_client: Client
) -> None:
    account = TraderAccountFactory.create(
        trader__strategy__user=member, subaccount__connection__user=member, max_contracts=5
    )
    url = reverse("trading:trader_account_edit", args=[account.pk])
    member_client.post(url, {"multiplier": "1.5", "max_contracts": "0", "enabled": "on"})
    account.refresh_from_db()
    assert (account.multiplier, account.max_contracts) == (Decimal("1.5"), 0)
    member_client.post(url, {"multiplier": "1.5", "max_contracts": ""})
    account.refresh_from_db()
    assert (account.max_contracts, account.enabled) == (None, False)
    assert member_client.post(url, {"multiplier": "-1"}).status_code == 400


def test_the_toggle_switches_a_trader_and_clears_the_systems_reason(
    member: User, member_client: Client
) -> None:
    trader = TraderFactory.create(
        strategy__user=member, enabled=False, disabled_reason="Membership ended."
    )
    url = reverse("trading:trader_toggle", args=[trader.pk])
    assert member_client.post(url, {"enabled": "on"}).status_code == 302
    trader.refresh_from_db()
    assert (trader.enabled, trader.disabled_reason) == (True, "")
    assert member_client.post(url, {"enabled": "off"}).status_code == 302
    trader.refresh_from_db()
    assert trader.enabled is False
    assert member_client.post(url, {"enabled": "maybe"}).status_code == 400


def _signal(strategy: Strategy, key: str, **fields: Any) -> Signal:
    return Signal.objects.create(strategy=strategy, idempotency_key=key, raw_body="{}", **fields)


def test_the_signal_log_shows_own_and_followed_signals_only(
    member: User, member_client: Client, other_user: User
) -> None:
    mine = StrategyFactory.create(user=member, name="Mine")
    vendor = StrategyFactory.create(user=other_user, name="Vendor", visibility="public")
    hidden = StrategyFactory.create(user=other_user, name="Hidden")
    account = TraderAccountFactory.create(
        trader__strategy=vendor, trader__user=member, subaccount__connection__user=member
    )
    own_signal = _signal(mine, "a", action="buy", status="rejected", rejection_reason="bad")
    followed = _signal(vendor, "b", action="sell", status="done")
    SignalOutcome.objects.create(
        signal=followed,
        trader_account=account,
        subaccount=account.subaccount,
        decision="ignored",
        reason="already short",
        status="done",
    )
    other = _signal(hidden, "c")
    text = member_client.get(reverse("trading:signal_list")).content.decode()
    assert f'href="/trading/signals/{own_signal.pk}/"' in text
    assert f'href="/trading/signals/{followed.pk}/"' in text
    assert f'href="/trading/signals/{other.pk}/"' not in text
    detail = member_client.get(reverse("trading:signal_detail", args=[followed.pk]))
    assert "already short" in detail.content.decode()
    assert member_client.get(reverse("trading:signal_detail", args=[other.pk])).status_code == 404
    by_decision = member_client.get(reverse("trading:signal_list"), {"decision": "ignored"})
    assert f'href="/trading/signals/{own_signal.pk}/"' not in by_decision.content.decode()
    assert f'href="/trading/signals/{followed.pk}/"' in by_decision.content.decode()
    by_status = member_client.get(reverse("trading:signal_list"), {"status": "rejected"})
    assert f'href="/trading/signals/{followed.pk}/"' not in by_status.content.decode()
    assert member_client.get(reverse("trading:signal_list"), {"status": "nope"}).status_code == 400


def test_every_setting_says_what_acts_on_it_and_none_claims_to_be_inactive(user: Any) -> None:
    from trading.forms import HELP

    client = Client()
    client.force_login(user)
    page = client.get(reverse("trading:strategy_create")).content.decode()
    assert "not active yet" not in page
    for words in ("moves the stop to entry + the offset", "in whole steps", "reaches this amount"):
        assert words in page
    assert {"break_even_trigger_ticks", "trailing_trigger_ticks", "max_daily_loss"} <= set(HELP)
