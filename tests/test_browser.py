"""A real Chromium (Debian's, driven by Playwright) signs up, confirms the e-mailed link, logs
out, logs in, sees the dashboard."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail

from accounts.models import User
from tests.billing.whop_fixtures import send_queued_emails

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "correct-horse-battery-9"


def test_sign_up_log_out_log_in_and_see_the_dashboard(page: Any) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill("Browser.Trader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/accounts/login/")
    assert page.get_by_text("Check your inbox: we sent a message to browser.trader@").is_visible()
    assert send_queued_emails() == 1
    link = re.search(r"http://\S+", str(mail.outbox[0].body))
    assert link is not None
    page.goto(urlsplit(link.group(0)).path)
    page.get_by_role("button", name="Confirm and log in").click()

    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_text("browser.trader@example.com").is_visible()
    assert User.objects.filter(email="browser.trader@example.com").exists()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")

    page.get_by_label("E-mail address").fill("browser.trader@example.com")
    page.get_by_label("Password").fill("wrong-password-here")
    page.get_by_role("button", name="Log in").click()
    assert (
        page.get_by_role("alert").inner_text().startswith("That e-mail and password do not match")
    )

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name="Broker connections").is_visible()


def test_a_logged_out_visitor_is_sent_to_log_in_and_back(page: Any) -> None:
    User.objects.create_user("back@example.com", PASSWORD)
    page.goto("/accounts/connections/")
    page.wait_for_url("**/accounts/login/?next=/accounts/connections/")
    page.get_by_label("E-mail address").fill("back@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/connections/")
    assert page.get_by_role("heading", name="Broker connections").is_visible()
