"""What pages say: labels not field names, prices at the tick, "1 contract", failures in words,
the symbol of a test alert, the billing page's trader count, the admin's names and links."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from tests.factories import (
    StrategyFactory,
    TraderAccountFactory,
    TraderFactory,
    UserFactory,
)
from trading.forms import LABELS, SETTING_NAMES
from trading.models import Order, Signal, SignalOutcome, Strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(member: User) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _outcome(owner: User, **fields: object) -> SignalOutcome:
    account = TraderAccountFactory.create(
        trader__strategy__user=owner, subaccount__connection__user=owner
    )
    signal = Signal.objects.create(
        strategy=account.trader.strategy,
        idempotency_key=f"words:{owner.pk}",
        raw_body='{"action": "buy"}',
        action="buy",
        symbol="MNQZ6",
        status=Signal.Status.FAILED,
    )
    return SignalOutcome.objects.create(
        signal=signal, trader_account=account, subaccount=account.subaccount, **fields
    )


def test_settings_show_the_forms_labels_never_field_names(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, entry_size=2)
    trader = TraderFactory.create(strategy=strategy)
    pages = [
        member_client.get(reverse("trading:strategy_detail", args=[strategy.pk])),
        member_client.get(reverse("trading:trader_detail", args=[trader.pk])),
    ]
    for response in pages:
        text = response.content.decode()
        for name in SETTING_NAMES:
            assert escape(LABELS[name]) in text, name
            assert f"<code>{name}</code>" not in text and f">{name}<" not in text, name


def test_one_contract_is_singular_in_settings(member: User, member_client: Client) -> None:
    strategy = StrategyFactory.create(
        user=member,
        take_profits=[
            {"distance": "1", "unit": "ticks", "qty": "1", "qty_unit": "contracts"},
            {"distance": "8", "unit": "ticks", "qty": "2", "qty_unit": "contracts"},
        ],
    )
    text = member_client.get(reverse("trading:strategy_detail", args=[strategy.pk])).content
    page = text.decode()
    assert "1 tick × 1 contract;" in page
    assert "8 ticks × 2 contracts" in page
    assert "1 contracts" not in page and "1 ticks" not in page


def test_order_prices_are_shown_at_the_contracts_tick(user: User, owner_client: Client) -> None:
    outcome = _outcome(user, status=SignalOutcome.Status.DONE, decision="open")
    Order.objects.create(
        subaccount=outcome.subaccount,
        signal=outcome.signal,
        outcome=outcome,
        cl_ord_id="words-1",
        symbol="MNQZ6",
        side="Sell",
        qty=1,
        order_type="Limit",
        price=Decimal("18005.25000000"),
        stop_price=Decimal("18000.00000000"),
        role=Order.Role.TAKE_PROFIT,
    )
    page = owner_client.get(reverse("trading:signal_detail", args=[outcome.signal_id])).content
    text = page.decode()
    assert ">18005.25<" in text and ">18000.00<" in text
    assert "18005.25000000" not in text and "18000.00000000" not in text


def test_a_failure_says_what_failed_in_words_not_the_class_name(
    user: User, owner_client: Client
) -> None:
    outcome = _outcome(
        user,
        status=SignalOutcome.Status.FAILED,
        error_type="InvalidSymbolError",
        error_message="No year in 'FOO': expected root + month code + year, e.g. MESZ6",
        reason="No year in 'FOO': expected root + month code + year, e.g. MESZ6",
    )
    text = owner_client.get(reverse("trading:signal_detail", args=[outcome.signal_id])).content
    page = text.decode()
    assert "The symbol could not be read" in page
    assert "No year in &#x27;FOO&#x27;" in page
    assert "InvalidSymbolError" not in page


def test_reasons_name_settings_by_their_labels_not_field_names(
    user: User, owner_client: Client
) -> None:
    reason = (
        "closed the long 1 and opened short 2 (entry_size=1 x multiplier 2.000 = 2; "
        "on_opposite_direction=reverse); at max contracts (max_contracts=2, position short 2); "
        "1 entries today"
    )
    outcome = _outcome(user, status=SignalOutcome.Status.DONE, decision="reverse", reason=reason)
    url = reverse("trading:signal_detail", args=[outcome.signal_id])
    page = owner_client.get(url).content.decode()
    assert "entry size 1 x multiplier 2.000 = 2" in page
    assert "signal in the opposite direction: reverse the position" in page
    assert "max contracts 2" in page
    assert "1 entry today" in page and "1 entries" not in page
    for name in ("entry_size=", "on_opposite_direction=", "max_contracts="):
        assert name not in page
    rows = owner_client.get(reverse("trading:signal_list")).content.decode()
    assert "entry_size=" not in rows and "entry size 1" in rows


def test_the_test_alert_carries_the_symbol_the_user_picks(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member)
    page = member_client.get(reverse("trading:strategy_detail", args=[strategy.pk])).content
    assert 'name="symbol" id="test-symbol" value="MNQ1!"' in page.decode()
    url = reverse("trading:strategy_test_alert", args=[strategy.pk])
    response = member_client.post(url, {"action": "buy", "symbol": "MESZ6"})
    assert response.status_code == 302
    assert Signal.objects.get(strategy=strategy).symbol == "MESZ6"
    bad = member_client.post(url, {"action": "buy", "symbol": "FOO"})
    assert bad.status_code == 400
    assert "Symbol: No year in 'FOO'" in bad.content.decode()
    assert Signal.objects.filter(strategy=strategy).count() == 1
    preview = reverse("trading:strategy_preview", args=[strategy.pk])
    answer = member_client.post(preview, {"action": "sell", "symbol": "M2KZ6"}).content.decode()
    assert "&quot;ticker&quot;: &quot;M2KZ6&quot;" in answer
    overridden = StrategyFactory.create(user=member, symbol_override="MESZ2026")
    page = member_client.get(reverse("trading:strategy_detail", args=[overridden.pk])).content
    assert 'value="MESZ2026"' in page.decode()
    es_only = StrategyFactory.create(user=member, symbol_allow_list=["ES", "MES"])
    page = member_client.get(reverse("trading:strategy_detail", args=[es_only.pk])).content
    assert 'name="symbol" id="test-symbol" value="ES1!"' in page.decode()
    url = reverse("trading:strategy_test_alert", args=[es_only.pk])
    assert member_client.post(url, {"action": "buy", "symbol": ""}).status_code == 302
    sent = Signal.objects.get(strategy=es_only)
    assert (sent.status, sent.symbol) != (Signal.Status.REJECTED, "MNQ1!"), sent.rejection_reason
    assert sent.symbol == "ES1!"


def test_billing_counts_the_traders_in_use(member: User, member_client: Client) -> None:
    strategy = StrategyFactory.create(user=member)
    for _ in range(3):
        TraderFactory.create(strategy=strategy)
    page = member_client.get(reverse("billing:overview")).content.decode()
    row = page.split("<td>Traders</td>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">3</td>' in row


def test_admin_says_strategies_links_the_health_panel_and_has_a_favicon() -> None:
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    page = client.get(reverse("admin:index")).content.decode()
    assert ">Strategies<" in page and "Strategys" not in page
    assert Strategy._meta.verbose_name_plural == "strategies"
    assert f'href="{reverse("admin:billing_health")}"' in page
    assert "favicon.svg" in page
    assert finders.find("favicon.svg") is not None
    assert "favicon.svg" in client.get(reverse("dashboard")).content.decode()
