"""D14 — Whop's API response changed shape; memberships were skipped silently.

| D14 | API response shape changed -> memberships skipped silently | external responses are validated; an unexpected shape is an error that is counted and shown, never a silent skip | test |

The sync runs against a fake Whop server over real HTTP. A membership whose e-mail moved (or
a page that lost ``data``) is counted on the run, logged with the offending part, and shown
in the admin; the well-formed memberships around it are still applied.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from billing.membership_events import membership_sync
from tests.billing.fake_whop import serve
from tests.billing.whop_fixtures import ensure_billing_seed, membership_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _admin() -> Client:
    client = Client()
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_a_changed_membership_shape_is_counted_logged_and_shown(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_billing_seed()
    moved = membership_data(whop_id="mem_moved", email="moved@example.com")
    moved["user"] = {"id": "user_2", "profile": {"email": "moved@example.com"}}  # email moved
    moved.pop("status")
    with (
        serve(settings) as fake,
        caplog.at_level(logging.ERROR, logger="billing.membership_events"),
    ):
        fake.memberships = [
            membership_data(whop_id="mem_a", email="a@example.com"),
            moved,
            membership_data(whop_id="mem_b", email="b@example.com"),
        ]
        run = membership_sync(trigger="test")
    assert run.status == "partial"
    assert run.shape_errors == 1 and run.memberships_seen == 2
    assert run.errors == ["page 1 data[1].status: expected a non-empty string (got null)"]
    assert "data[1].status" in caplog.text
    assert set(User.objects.values_list("email", flat=True)) >= {"a@example.com", "b@example.com"}
    page = _admin().get(f"/admin/billing/whopsyncrun/{run.pk}/change/").content.decode()
    assert "data[1].status: expected a non-empty string" in page


def test_a_membership_without_an_email_is_an_error_not_a_skip(settings: Any) -> None:
    ensure_billing_seed()
    nameless = membership_data(whop_id="mem_x")
    nameless["user"] = {"id": "user_3"}
    with serve(settings) as fake:
        fake.memberships = [nameless]
        run = membership_sync(trigger="test")
    assert run.shape_errors == 1
    assert "user.email: needed to find or create the account" in run.errors[0]


def test_a_page_without_data_fails_the_run_visibly(settings: Any) -> None:
    with serve(settings) as fake:
        fake.raw_pages = {1: {"memberships": [], "pagination": {"next": None}}}
        run = membership_sync(trigger="test")
    assert run.status == "failed" and run.shape_errors == 1
    assert "response.data: expected a list of memberships" in run.errors[0]
