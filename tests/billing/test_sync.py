"""Membership sync against a fake Whop server on 127.0.0.1 (real HTTP, real pagination)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from billing import membership_events, services
from billing.models import Membership, Plan, TradingPause, WhopSyncRun
from billing.tasks import membership_sync
from billing.whop import WhopClient
from tests.billing.fake_whop import FakeWhop
from tests.billing.whop_fixtures import MembershipFactory, elite, membership_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def no_sleep(seconds: float) -> None:
    pass


def test_pages_through_every_membership_and_reconciles(fake_whop: FakeWhop) -> None:
    elite()
    fake_whop.memberships = [
        membership_data(whop_id=f"mem_{i}", email=f"buyer{i}@example.com") for i in range(5)
    ]
    fake_whop.memberships.append(
        membership_data(whop_id="mem_gone", email="gone@example.com", status="expired")
    )
    run = WhopSyncRun.objects.get(pk=membership_sync(trigger="test"))
    assert run.status == "ok", run.errors
    assert (run.pages, run.memberships_seen, run.users_created) == (3, 6, 5)
    assert run.skipped_unknown_inactive == 1  # counted, not silently dropped
    assert [r["query"].get("after") for r in fake_whop.requests] == [
        None,
        ["cur_2"],
        ["cur_4"],
    ]
    assert all(r["auth_ok"] for r in fake_whop.requests)
    assert User.objects.filter(is_active=False, email__startswith="buyer").count() == 5
    # Running again changes nothing.
    again = membership_events.membership_sync(trigger="test")
    assert (again.memberships_changed, again.users_created) == (0, 0)


def test_a_status_change_at_whop_revokes_here(fake_whop: FakeWhop) -> None:
    membership = MembershipFactory.create(whop_id="mem_1")
    fake_whop.memberships = [
        membership_data(whop_id="mem_1", email=membership.user.email, status="canceled")
    ]
    membership_events.membership_sync(trigger="test")
    membership.refresh_from_db()
    assert membership.status == "canceled"
    assert TradingPause.objects.filter(user=membership.user, ended_at=None).exists()


def test_a_staff_grant_is_never_overwritten_by_a_sync(fake_whop: FakeWhop) -> None:
    user = UserFactory.create()
    grant = services.membership_grant(
        user=user, plan=Plan.objects.get(slug="premium"), granted_by=None, days=30
    )
    fake_whop.memberships = [membership_data(whop_id="mem_7", email=user.email, status="expired")]
    membership_events.membership_sync(trigger="test")
    grant.refresh_from_db()
    assert (grant.source, grant.status) == ("staff", "active")
    assert not TradingPause.objects.filter(user=user, ended_at=None).exists()


def test_an_expired_staff_grant_pauses_trading_at_the_next_sync(fake_whop: FakeWhop) -> None:
    user = UserFactory.create()
    services.membership_grant(
        user=user,
        plan=Plan.objects.get(slug="basic"),
        granted_by=None,
        until=timezone.now() - timedelta(minutes=1),
    )
    membership_events.membership_sync(trigger="test")
    assert TradingPause.objects.filter(user=user, ended_at=None).exists()


def test_a_429_is_honoured_with_retry_after(fake_whop: FakeWhop) -> None:
    elite()
    fake_whop.memberships = [
        membership_data(whop_id=f"mem_{i}", email=f"r{i}@x.com") for i in range(3)
    ]
    fake_whop.rate_limit_before_page = {2: 7}
    waited: list[float] = []
    client = WhopClient(api_key=fake_whop_key(), sleep=waited.append)
    run = membership_events.membership_sync(trigger="test", client=client)
    assert run.status == "ok", run.errors
    assert waited == [7.0]
    assert run.rate_limited == 1 and run.memberships_seen == 3


def test_endless_429_fails_the_run_visibly(fake_whop: FakeWhop) -> None:
    fake_whop.memberships = [membership_data()]
    fake_whop.rate_limit_before_page = {1: 1}
    client = WhopClient(
        api_key=fake_whop_key(), sleep=lambda s: fake_whop.rate_limit_before_page.update({1: 1})
    )
    run = membership_events.membership_sync(trigger="test", client=client)
    assert run.status == "failed"
    assert "still rate-limited" in run.errors[0]


def test_a_rejected_api_key_fails_the_run_and_says_which_variable(
    fake_whop: FakeWhop, settings: Any
) -> None:
    settings.WHOP_API_KEY = "apik_" + "G" * 40
    run = membership_events.membership_sync(trigger="test")
    assert run.status == "failed"
    assert "WHOP_API_KEY" in run.errors[0] and "401" in run.errors[0]
    assert settings.WHOP_API_KEY not in " ".join(run.errors)


def test_whop_unreachable_fails_the_run_with_the_reason(settings: Any) -> None:
    settings.WHOP_API_KEY = "apik_" + "H" * 40
    settings.WHOP_API_BASE_URL = "http://127.0.0.1:9/api/v1"
    settings.WHOP_HTTP_TIMEOUT_SECONDS = 2
    run = membership_events.membership_sync(trigger="test")
    assert run.status == "failed" and "ConnectError" in run.errors[0]


def fake_whop_key() -> str:
    from tests.billing.fake_whop import API_KEY

    return API_KEY


def test_sync_runs_every_15_minutes_on_the_default_queue() -> None:
    from config.celery import app

    entry = app.conf.beat_schedule["billing-membership-sync"]
    assert entry["task"] == "billing.membership_sync" and entry["schedule"] == 900.0
    assert entry["options"]["queue"] == "default"
    assert "billing.membership_sync" in app.tasks
    assert Membership.objects.count() == 0
