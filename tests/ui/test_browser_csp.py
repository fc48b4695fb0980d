"""The Content-Security-Policy in a real Chromium: the dashboard draws its chart and opens its
live socket, and the admin's scripted widgets run, without a single violation (the policy
allows what our pages do, no more)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.analytics.trade_builders import round_trip
from tests.factories import SubaccountFactory, UserFactory
from tests.ui.browser import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.effectiveDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_the_dashboard_and_the_admin_run_under_the_policy_without_a_violation(page: Any) -> None:
    user = UserFactory.create(is_staff=True, is_superuser=True)
    sub = SubaccountFactory.create(connection__user=user, name="DEMO1001")
    start = timezone.now() - timedelta(minutes=50)
    for n, points in enumerate(["4", "-1.5", "2.25"]):
        round_trip(sub, opened_at=start + timedelta(minutes=12 * n), points=points)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.add_init_script(RECORD_VIOLATIONS)

    log_in(page, user.email)
    response = page.goto("/dashboard/")
    assert response is not None
    policy = [part.strip() for part in response.headers["content-security-policy"].split(";")]
    assert "script-src 'self'" in policy
    page.locator("#equity-chart[data-points='3']").wait_for()
    box = page.locator("#equity-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    # The chart library's attribution logo (its one <style> element, allowed by hash).
    page.locator("#equity-chart a#tv-attr-logo").wait_for(state="attached")
    page.wait_for_timeout(500)  # the live socket's first attempt has been made by now

    assert page.evaluate("window.__cspViolations") == []

    # The admin: a change form with a scripted widget (the groups' two-box selector).
    page.goto(f"/admin/accounts/user/{user.pk}/change/")
    page.locator("#id_groups_from").wait_for()
    assert page.evaluate("window.__cspViolations") == []
    assert [line for line in console if "Content Security Policy" in line] == []
