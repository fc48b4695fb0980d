"""Adding and testing a simulator connection in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import BrokerConnection, Subaccount
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _log_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def test_add_a_simulator_connection_and_test_it(page: Any, sim_settings: Any, plan: Any) -> None:
    from billing.services import membership_grant

    user = UserFactory.create()
    membership_grant(user=user, plan=plan, granted_by=None)
    _log_in(page, user.email)
    page.get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="Add connection").click()
    page.get_by_label("Label").fill("Paper 1")
    page.get_by_label("Broker", exact=True).select_option("simulator")
    page.get_by_label("Broker user name").fill("demo")
    page.get_by_label("Broker password").fill("demo-password")
    page.get_by_role("button", name="Save connection").click()
    page.wait_for_url("**/accounts/connections/*/")
    page.get_by_role("button", name="Test connection").click()
    assert page.get_by_text("Connected. Trading accounts: DEMO1001, DEMO1002.").is_visible()
    assert page.locator("#subaccounts").get_by_text("DEMO1002").is_visible()
    connection = BrokerConnection.objects.get(user=user)
    assert connection.status == BrokerConnection.Status.CONNECTED
    assert Subaccount.objects.filter(connection=connection).count() == 2
    assert "demo-password" not in page.content()


def test_a_wrong_password_shows_the_brokers_words(page: Any, sim_settings: Any) -> None:
    user = UserFactory.create()
    _log_in(page, user.email)
    page.goto("/accounts/connections/new/")
    page.get_by_label("Label").fill("Typo")
    page.get_by_label("Broker user name").fill("demo")
    page.get_by_label("Broker password").fill("wrong-password")
    page.get_by_role("button", name="Save connection").click()
    page.get_by_role("button", name="Test connection").click()
    assert page.get_by_text("Incorrect username or password").first.is_visible()


def test_the_plan_limit_is_said_in_the_browser(page: Any, sim_settings: Any, plan: Any) -> None:
    from billing.services import membership_grant

    plan.max_broker_accounts = 1
    plan.save()
    user = UserFactory.create()
    membership_grant(user=user, plan=plan, granted_by=None)
    _log_in(page, user.email)
    page.goto("/accounts/connections/new/")
    page.get_by_label("Label").fill("Two accounts")
    page.get_by_label("Broker user name").fill("demo")
    page.get_by_label("Broker password").fill("demo-password")
    page.get_by_role("button", name="Save connection").click()
    page.get_by_role("button", name="Test connection").click()
    assert page.get_by_text("allows 1 broker accounts; you have 0").is_visible()
    assert Subaccount.objects.filter(connection__user=user).count() == 0
