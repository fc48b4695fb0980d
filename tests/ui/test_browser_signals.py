"""The signal log in a real Chromium: a test alert, executed at the simulator, with its outcome."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.browser import log_in
from tests.ui.sim_setup import execute_shown_signal, net_position, ui_account
from trading.models import Order, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
__all__ = ["ui_account"]


def test_see_a_signal_with_its_outcome_and_orders_in_the_log(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    strategy = ui_account.trader.strategy
    log_in(page, strategy.user.email)
    page.goto(f"/trading/strategies/{strategy.pk}/")
    page.get_by_role("button", name="Send test alert").click()
    page.wait_for_url("**/trading/signals/*/")
    signal = execute_shown_signal(page)
    assert net_position(sim) == 1
    outcome = page.locator(".outcome")
    assert outcome.count() == 1
    assert "DEMO1001" in outcome.inner_text()
    assert outcome.locator(".decision-text").inner_text() == "open"
    assert "0 → 1" in outcome.inner_text()
    orders = Order.objects.filter(signal=signal)
    rows = outcome.locator("table.orders tbody tr")
    assert rows.count() == orders.count() >= 3  # entry, take-profit, stop
    for order in orders:
        assert order.cl_ord_id in outcome.inner_text()
    assert '"action": "buy"' in page.locator("#raw-body").inner_text()
    # The log lists it, and the filters find it by strategy, status and decision.
    page.get_by_role("navigation").get_by_role("link", name="Signals").click()
    page.locator("#id_strategy").select_option(label=strategy.name)
    page.locator("#id_status").select_option("done")
    page.locator("#id_decision").select_option("open")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("link", name=str(signal.pk), exact=True).is_visible()
    assert "DEMO1001: open" in page.locator("table.signals").inner_text()
    page.locator("#id_decision").select_option("ignored")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_text("No signal matches.").is_visible()


def test_preview_an_alert_in_the_browser_then_nothing_was_sent(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    strategy = ui_account.trader.strategy
    log_in(page, strategy.user.email)
    page.goto(f"/trading/strategies/{strategy.pk}/")
    page.locator("#test-action").select_option("sell")
    page.get_by_role("button", name="Preview (nothing sent)").click()
    page.wait_for_url(f"**/trading/strategies/{strategy.pk}/preview/")
    assert "Nothing was sent" in page.locator("main").inner_text()
    row = page.locator(f"#preview-{ui_account.pk}")
    assert "DEMO1001" in row.inner_text()
    assert "open short 1" in row.inner_text()
    assert "would sell 1 MNQZ6 at market" in row.inner_text()
    assert net_position(sim) == 0
    assert not Order.objects.exists()
