"""The trading side of the support admin: traders, signals, disable, flatten, health."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.management.commands.seed_demo import support_login_ensure
from accounts.models import User
from tests.billing.whop_fixtures import ensure_billing_seed
from tests.factories import TraderAccountFactory, UserFactory
from tests.signals.helpers import outside_order, position, send, working
from trading.models import Signal, SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db


def _support_group() -> Group:
    """The support group as the migrations leave it (transactional tests flush it)."""
    from importlib import import_module

    from django.contrib.contenttypes.models import ContentType

    from trading.models import Trader

    ensure_billing_seed()
    migration = import_module("trading.migrations.0002_support_permissions")
    trader_type = ContentType.objects.get_for_model(Trader)
    for codename, name in migration.TRADING_ACTION_PERMISSIONS:
        Permission.objects.get_or_create(
            content_type=trader_type, codename=codename, defaults={"name": name}
        )
    group = Group.objects.get(name="support")
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in migration.TRADING_SUPPORT_PERMISSIONS
        ]
    )
    return group


def _support_client() -> Client:
    """The seeded support login (seed_demo) with the group as the migrations leave it."""
    _support_group()
    client = Client()
    client.force_login(support_login_ensure())
    return client


@pytest.fixture
def support() -> Client:
    return _support_client()


@pytest.fixture
def failed_outcome() -> SignalOutcome:
    account = TraderAccountFactory.create(
        trader__name="Breakout trader", subaccount__name="DEMO7777"
    )
    account.subaccount.connection.user = account.trader.user
    account.subaccount.connection.save()
    signal = Signal.objects.create(
        strategy=account.trader.strategy,
        idempotency_key="k-admin-1",
        raw_body='{"action": "buy", "ticker": "MNQZ6"}',
        parsed={"action": "buy", "ticker": "MNQZ6"},
        action="buy",
        symbol="MNQZ6",
        status=Signal.Status.DONE,
    )
    return SignalOutcome.objects.create(
        signal=signal,
        trader_account=account,
        subaccount=account.subaccount,
        symbol="MNQZ6",
        status=SignalOutcome.Status.FAILED,
        decision="open",
        reason="flat: open long 1",
        error_type="BrokerError",
        error_message="Insufficient buying power",
        broker_response='{"failureText": "Insufficient buying power"}',
    )


def test_the_support_group_has_exactly_the_permissions_it_needs() -> None:
    from importlib import import_module

    billing = import_module("billing.migrations.0003_support_group").SUPPORT_PERMISSIONS
    trading = import_module("trading.migrations.0002_support_permissions")
    logins = import_module("accounts.migrations.0004_support_unlock_login")
    copying = import_module("copytrade.migrations.0002_support_permissions")
    have = {(p.content_type.app_label, p.codename) for p in _support_group().permissions.all()}
    assert have == (
        set(billing)
        | set(trading.TRADING_SUPPORT_PERMISSIONS)
        | set(logins.SUPPORT_LOGIN_PERMISSIONS)
        | {("copytrade", c) for c in [*copying.VIEW, copying.ACTION[0]]}
    )
    assert not any(c.startswith(("add_", "change_", "delete_")) for a, c in have if a == "trading")


def test_support_sees_traders_signals_outcomes_and_orders(
    support: Client, failed_outcome: SignalOutcome
) -> None:
    trader = failed_outcome.trader_account.trader
    strategy = trader.strategy
    for url in (
        "/admin/trading/strategy/",
        "/admin/trading/trader/",
        "/admin/trading/signal/",
        "/admin/trading/signaloutcome/?status__exact=failed",
        "/admin/trading/order/?state__exact=working",
        f"/admin/trading/trader/{trader.pk}/change/",
        f"/admin/trading/strategy/{strategy.pk}/change/",
    ):
        page = support.get(url)
        assert page.status_code == 200, url
        assert strategy.webhook_token not in page.content.decode(), url
    detail = support.get(f"/admin/trading/signal/{failed_outcome.signal_id}/change/")
    text = detail.content.decode()
    assert "flat: open long 1" in text and "Insufficient buying power" in text
    assert "failureText" in text and "MNQZ6" in text
    # The user page: traders with their state, and the recent outcomes on their accounts.
    user_page = support.get(f"/admin/accounts/user/{trader.user_id}/change/").content.decode()
    assert "Breakout trader" in user_page and "DEMO7777" in user_page
    assert (
        "flat: open long 1" in user_page and "BrokerError: Insufficient buying power" in user_page
    )
    assert strategy.webhook_token not in user_page
    # Read-only: support cannot change or delete trading records.
    assert support.post(f"/admin/trading/trader/{trader.pk}/change/", {}).status_code == 403
    assert (
        support.get(f"/admin/trading/signal/{failed_outcome.signal_id}/delete/").status_code == 403
    )


def test_support_disables_a_trader(support: Client, failed_outcome: SignalOutcome) -> None:
    trader = failed_outcome.trader_account.trader
    response = support.post(
        "/admin/trading/trader/", {"action": "disable", "_selected_action": [trader.pk]}
    )
    assert response.status_code == 302
    trader.refresh_from_db()
    assert trader.enabled is False
    assert trader.disabled_reason.startswith("support switched it off on ")


def test_the_health_panel_shows_failed_signals_of_the_last_hour(
    support: Client, failed_outcome: SignalOutcome
) -> None:
    health = support.get("/admin/billing/whopevent/health/").content.decode()
    assert "in the last hour: 1." in health
    assert "Insufficient buying power" in health and "flat: open long 1" in health
    Signal.objects.update(received_at="2000-01-01T00:00:00Z")
    assert (
        "in the last hour: 0." in support.get("/admin/billing/whopevent/health/").content.decode()
    )


def test_other_users_reach_none_of_it(
    owner_client: Client, user: User, failed_outcome: SignalOutcome
) -> None:
    trader = failed_outcome.trader_account.trader
    urls = (
        "/admin/trading/trader/",
        "/admin/trading/signal/",
        f"/admin/trading/signal/{failed_outcome.signal_id}/change/",
        f"/admin/accounts/user/{trader.user_id}/flatten/",
        "/admin/billing/whopevent/health/",
    )
    for url in urls:  # not staff: sent to the admin login
        assert owner_client.get(url).status_code == 302, url
    staff = Client()
    staff.force_login(UserFactory.create(is_staff=True))  # staff without the support group
    for url in urls:
        assert staff.get(url).status_code == 403, url
    assert (
        owner_client.post(
            "/admin/trading/trader/", {"action": "disable", "_selected_action": [trader.pk]}
        ).status_code
        == 302
    )
    trader.refresh_from_db()
    assert trader.enabled is True


@pytest.mark.django_db(transaction=True)
def test_flatten_confirms_what_is_open_at_the_broker_then_closes_it(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    send(strategy, action="buy", ticker="MNQZ6", id="adm1")
    assert position(sim) == 1 and len(working(sim)) == 2  # take-profit and stop
    support = _support_client()
    url = f"/admin/accounts/user/{strategy.user_id}/flatten/"
    shown = support.get(url)
    assert shown.status_code == 200
    text = shown.content.decode()
    block = text[text.index(f'id="exposure-{trader_account.subaccount_id}"') :]
    assert "DEMO1001" in block and "MNQZ6" in block and "long 1" in block
    assert len(re.findall(r"<tr><td>\d+</td><td>MNQZ6", block)) == 2  # two working orders
    assert position(sim) == 1  # showing closes nothing
    done = support.post(url, {"fingerprint": shown.context["fingerprint"], "account": ""})
    assert done.status_code == 302
    assert position(sim) == 0 and working(sim) == []
    notes = [str(m) for m in done.wsgi_request._messages]  # type: ignore[attr-defined]
    assert any("DEMO1001" in n and "flattened MNQZ6 (+1)" in n for n in notes), notes
    assert "nothing-open" in support.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_stale_flatten_confirmation_closes_nothing(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    send(strategy, action="buy", ticker="MNQZ6", id="adm2")
    support = _support_client()
    url = f"/admin/accounts/user/{strategy.user_id}/flatten/?account={trader_account.subaccount_id}"
    shown = support.get(url)
    outside_order(sim, "Buy", 1)  # what is open changes after the page was shown
    assert position(sim) == 2
    stale = support.post(url, {"fingerprint": shown.context["fingerprint"]})
    assert stale.status_code == 409
    assert "flatten-changed" in stale.content.decode()
    assert position(sim) == 2 and len(working(sim)) == 2
