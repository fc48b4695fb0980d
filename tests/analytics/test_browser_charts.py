"""The dashboard in a real Chromium: the equity curve drawn by the vendored chart library, and
the month's calendar with each day's amount."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.analytics.trade_builders import round_trip
from tests.factories import SubaccountFactory, UserFactory
from tests.ui.browser import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_dashboard_draws_the_equity_curve_and_the_calendar(page: Any) -> None:
    user = UserFactory.create()
    sub = SubaccountFactory.create(connection__user=user, name="DEMO1001")
    start = timezone.now() - timedelta(minutes=70)
    trades = [
        round_trip(sub, opened_at=start + timedelta(minutes=12 * n), points=points)
        for n, points in enumerate(["4", "-1.5", "2.25", "3", "-0.5"])
    ]
    closed = trades[-1].closed_at.astimezone(ZoneInfo(user.time_zone)).date()  # type: ignore[union-attr]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, user.email)
    page.goto(f"/dashboard/?month={closed:%Y-%m}")
    chart = page.locator("#equity-chart[data-points='5']")
    chart.wait_for()
    box = page.locator("#equity-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    assert errors == []

    days = page.locator("#pnl-calendar td.day")
    assert days.count() >= 28
    cell = page.locator(f"#pnl-calendar td[data-day='{closed:%Y-%m-%d}']")
    label = cell.get_attribute("aria-label") or ""
    assert "trade" in label and "$" in label and "no trade" not in label
    assert "$" in cell.inner_text()
    assert page.get_by_role("link", name="TradingView Lightweight Charts™").is_visible()
