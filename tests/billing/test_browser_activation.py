"""A real Chromium follows the activation e-mail's link to the dashboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.billing.whop_fixtures import (
    WEBHOOK_URL,
    current_event,
    elite,
    membership_data,
    send_queued_emails,
    signed_headers,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "browser-activated-pass-31"


def test_from_whop_purchase_to_the_dashboard(page: Any) -> None:
    elite()
    body = current_event("membership.activated", membership_data(email="buyer@example.com"))
    response = Client(enforce_csrf_checks=True).post(
        WEBHOOK_URL, data=body, content_type="application/json", **signed_headers(body)
    )
    assert response.status_code == 200
    send_queued_emails()
    match = re.search(r"http://localhost:8000(\S+)", str(mail.outbox[0].body))
    assert match is not None

    page.goto(match.group(1))
    assert page.get_by_text("buyer@example.com").is_visible()
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Activate and log in").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_text("Your account is active.").is_visible()
    assert User.objects.get(email="buyer@example.com").is_active
