"""The admin as a support user: what they see, what they can do, what they cannot."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.management.commands.seed_demo import support_login_ensure
from accounts.models import User
from billing.models import EmailDelivery, Membership, Plan, WhopEvent, WhopSyncRun
from tests.billing.whop_fixtures import MembershipFactory
from tests.factories import BrokerConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support() -> Client:
    """The seeded support login (seed_demo): staff in the "support" group, not a superuser."""
    client = Client()
    client.force_login(support_login_ensure())
    return client


def test_the_user_page_answers_why_cant_i_trade(support: Client, user: User) -> None:
    MembershipFactory.create(user=user, status="expired")
    BrokerConnectionFactory.create(
        user=user, label="Apex 1", status="error", last_error="Incorrect username or password"
    )
    from billing.services import trading_pause

    trading_pause(user=user, reason="Whop membership mem_9 is expired")
    page = support.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "PAUSED since" in page and "mem_9 is expired" in page
    assert "Apex 1" in page and "Incorrect username or password" in page
    listing = support.get(f"/admin/accounts/user/?q={user.email}").content.decode()
    assert user.email in listing and "paused" in listing


def test_support_resends_activation_and_resyncs(
    support: Client, django_capture_on_commit_callbacks: Any
) -> None:
    pending = User.objects.create(email="pending@example.com", is_active=False)
    response = support.post(
        "/admin/accounts/user/",
        {"action": "resend_activation", "_selected_action": [pending.pk]},
    )
    assert response.status_code == 302
    assert EmailDelivery.objects.get().user == pending
    with django_capture_on_commit_callbacks() as callbacks:
        support.post(
            "/admin/accounts/user/",
            {"action": "resync_membership", "_selected_action": [pending.pk]},
        )
    assert len(callbacks) == 1  # the sync task is enqueued after commit


def test_support_grants_a_membership_that_resumes_trading(support: Client, user: User) -> None:
    from billing.services import trading_pause

    MembershipFactory.create(user=user, status="expired")
    trading_pause(user=user, reason="expired")
    premium = Plan.objects.get(slug="premium")
    response = support.post(
        "/admin/billing/membership/add/",
        {
            "user": user.pk,
            "plan": premium.pk,
            "period_end_0": "2099-01-01",
            "period_end_1": "00:00:00",
            "note": "goodwill",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = Membership.objects.get(source="staff")
    assert grant.plan == premium and grant.granted_by is not None and grant.status == "active"
    assert not user.trading_pauses.filter(ended_at=None).exists()


def test_support_cannot_edit_plans_delete_users_or_edit_whop_memberships(
    support: Client, user: User
) -> None:
    membership = MembershipFactory.create(user=user)
    assert support.get(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403
    plan = Plan.objects.get(slug="basic")
    assert support.post(f"/admin/billing/plan/{plan.pk}/change/", {}).status_code == 403
    before = membership.status
    support.post(f"/admin/billing/membership/{membership.pk}/change/", {"status": "expired"})
    membership.refresh_from_db()
    assert membership.status == before


def test_support_sees_events_sync_runs_emails_and_the_health_panel(support: Client) -> None:
    WhopEvent.objects.create(
        whop_id="msg_1", event_type="membership.activated", status="failed", error="boom"
    )
    WhopSyncRun.objects.create(
        status="partial", shape_errors=2, errors=["page 1 data[0].user.email: x"]
    )
    EmailDelivery.objects.create(
        to_email="a@b.c", kind="activation", subject="s", status="failed", last_error="SMTP 550"
    )
    for url in (
        "/admin/billing/whopevent/",
        "/admin/billing/whopsyncrun/",
        "/admin/billing/emaildelivery/",
    ):
        assert support.get(url).status_code == 200, url
    health = support.get("/admin/billing/whopevent/health/").content.decode()
    assert "webhook-intake" in health and "failed 1" in health
    assert "boom" in health and "SMTP 550" in health
    assert "2 unexpected shape(s)" in health


def test_the_health_panel_is_for_support_only(owner_client: Client) -> None:
    assert owner_client.get("/admin/billing/whopevent/health/").status_code == 302
