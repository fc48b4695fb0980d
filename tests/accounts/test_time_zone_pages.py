"""Times on every page are in the user's time zone, to the second, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.factories import StrategyFactory, UserFactory
from trading.models import Signal

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 7, 1, 13, 30, 5, 123456, tzinfo=UTC)


def _signal(owner: User) -> Signal:
    return Signal.objects.create(
        strategy=StrategyFactory.create(user=owner),
        idempotency_key="tz-test",
        raw_body="{}",
        status=Signal.Status.REJECTED,
        rejection_reason="The alert has no action.",
        received_at=MOMENT,
    )


def test_signal_times_are_in_the_users_zone_with_the_zone_named() -> None:
    tokyo = UserFactory.create(time_zone="Asia/Tokyo")
    signal = _signal(tokyo)
    client = Client()
    client.force_login(tokyo)
    for url in (reverse("trading:signal_list"), reverse("trading:signal_detail", args=[signal.pk])):
        page = client.get(url).content.decode()
        assert "2026-07-01 22:30:05 JST" in page, url  # 13:30:05 UTC, seconds shown
        assert "13:30:05" not in page, url  # never the UTC clock
    new_york = UserFactory.create(time_zone="America/New_York")
    Signal.objects.filter(pk=signal.pk).update(strategy=StrategyFactory.create(user=new_york))
    client.force_login(new_york)
    page = client.get(reverse("trading:signal_detail", args=[signal.pk])).content.decode()
    assert "2026-07-01 09:30:05 EDT" in page


def test_the_zone_is_per_request_and_does_not_leak_to_the_next_one() -> None:
    tokyo = UserFactory.create(time_zone="Asia/Tokyo")
    client = Client()
    client.force_login(tokyo)
    client.get(reverse("trading:strategy_list"))
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_zone_the_system_does_not_know_falls_back_to_utc_and_says_so() -> None:
    odd = UserFactory.create(time_zone="Nowhere/Special")
    signal = _signal(odd)
    client = Client()
    client.force_login(odd)
    page = client.get(reverse("trading:signal_detail", args=[signal.pk])).content.decode()
    assert "2026-07-01 13:30:05 UTC" in page


def test_the_strategy_list_shows_the_creation_time_in_the_users_zone() -> None:
    user = UserFactory.create(time_zone="Europe/Berlin")
    StrategyFactory.create(user=user, name="Shown")
    client = Client()
    client.force_login(user)
    page = client.get(reverse("trading:strategy_list")).content.decode()
    now = timezone.localtime(timezone.now(), timezone=ZoneInfo("Europe/Berlin"))
    assert now.strftime("%Y-%m-%d") in page
    assert now.strftime("%Z") in page  # CET or CEST
