"""D12 — Whop webhooks were answered 403 all day: a typo in the CSRF-exempt path list.

| D12 | Whop webhooks 403'd all day (CSRF path typo) | the real webhook URLs accept POSTs with CSRF enforcement on | test with `enforce_csrf_checks=True` on the literal path |

The exemption lives on the view itself (no path list to mistype); this posts to the literal
path with CSRF enforcement on, as Whop does: no cookie, no token.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from billing.models import WhopEvent
from tests.billing.whop_fixtures import (
    WEBHOOK_SECRET,
    current_event,
    ensure_billing_seed,
    membership_data,
    signed_headers,
)

pytestmark = pytest.mark.django_db


def test_the_literal_whop_path_accepts_a_post_with_csrf_checks_on(settings: Any) -> None:
    ensure_billing_seed()
    settings.WHOP_WEBHOOK_SECRET = WEBHOOK_SECRET
    body = current_event("membership.activated", membership_data())
    response = Client(enforce_csrf_checks=True).post(
        "/webhooks/whop/", data=body, content_type="application/json", **signed_headers(body)
    )
    assert response.status_code == 200
    assert WhopEvent.objects.get().status == "processed"


def test_the_exemption_is_on_the_view_not_a_path_list() -> None:
    assert getattr(resolve("/webhooks/whop/").func, "csrf_exempt", False) is True


def test_an_unsigned_post_is_refused_by_us_not_by_csrf(settings: Any) -> None:
    settings.WHOP_WEBHOOK_SECRET = WEBHOOK_SECRET
    response = Client(enforce_csrf_checks=True).post(
        "/webhooks/whop/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 401  # a 403 here would be CSRF: the D12 failure
