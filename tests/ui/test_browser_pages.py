"""Pages in a real Chromium: the layout at a phone's width, and a signal's page that updates
itself after a test alert until the signal is final."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import User
from tests.factories import (
    BrokerConnectionFactory,
    StrategyFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
)
from tests.ui.browser import log_in
from tests.ui.sim_setup import net_position, ui_account
from trading.execution import signal_execute
from trading.models import Order, Signal, SignalOutcome, TraderAccount
from trading.services import signal_receive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
__all__ = ["ui_account"]

PHONE = {"width": 390, "height": 844}


def _a_full_account(member: User) -> tuple[int, int]:
    """A strategy with a long name, a trader, a connection and a signal with orders: the wide
    content a phone must scroll inside its boxes."""
    strategy = StrategyFactory.create(
        user=member,
        name="Nasdaq micro breakout with a rather long descriptive name",
        take_profits=[
            {"distance": "20", "unit": "ticks", "qty": "50", "qty_unit": "percent"},
            {"distance": "40", "unit": "ticks", "qty": "50", "qty_unit": "percent"},
        ],
        time_windows=[["09:30", "11:30"], ["13:00", "15:45"]],
    )
    connection = BrokerConnectionFactory.create(user=member, label="Tradovate demo login")
    subaccount = SubaccountFactory.create(connection=connection, name="DEMO-ACCOUNT-1001")
    account = TraderAccountFactory.create(
        trader=TraderFactory.create(strategy=strategy, name="Follower on the demo"),
        subaccount=subaccount,
    )
    signal = Signal.objects.create(
        strategy=strategy,
        idempotency_key="phone",
        raw_body='{"action": "buy", "ticker": "MNQ1!", "price": "18000.25"}',
        action="buy",
        symbol="MNQ1!",
        status=Signal.Status.DONE,
    )
    outcome = SignalOutcome.objects.create(
        signal=signal,
        trader_account=account,
        subaccount=subaccount,
        symbol="MNQZ6",
        status=SignalOutcome.Status.DONE,
        decision="open",
        reason="open long 1",
    )
    for n, role in enumerate(("entry", "take_profit", "stop")):
        Order.objects.create(
            subaccount=subaccount,
            signal=signal,
            outcome=outcome,
            cl_ord_id=f"bk-phone-{n}-0123456789abcdef",
            broker_order_id=9_000_000_000 + n,
            symbol="MNQZ6",
            side="Buy",
            qty=1,
            order_type="Limit",
            price=Decimal("18005.25"),
            role=role,
        )
    return strategy.pk, signal.pk


def test_the_main_pages_fit_a_390px_phone(page: Any, member: User) -> None:
    strategy_id, signal_id = _a_full_account(member)
    page.set_viewport_size(PHONE)
    log_in(page, member.email)
    paths = [
        "/dashboard/",
        "/trading/strategies/",
        f"/trading/strategies/{strategy_id}/",
        "/trading/traders/",
        "/trading/signals/",
        f"/trading/signals/{signal_id}/",
        "/accounts/connections/",
        "/billing/",
        "/accounts/settings/",
    ]
    for path in paths:
        page.goto(path)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (
            f"{path}: page {widths[0]} px wide on a {widths[1]} px screen"
        )
        # Every navigation link is on screen (the bar wraps), none pushed off to the right.
        for link in page.get_by_role("navigation").get_by_role("link").all():
            box = link.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], path
    # The wide table scrolls inside its own box.
    page.goto(f"/trading/signals/{signal_id}/")
    box = page.locator("table.orders").evaluate(
        "t => { const s = t.closest('.table-scroll') || t;"
        " return [s.scrollWidth, s.clientWidth, getComputedStyle(s).overflowX]; }"
    )
    assert box[0] > box[1] and box[2] in ("auto", "scroll")


def test_the_signal_page_updates_itself_until_the_signal_is_final(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    strategy = ui_account.trader.strategy
    log_in(page, strategy.user.email)
    page.goto(f"/trading/strategies/{strategy.pk}/")
    page.get_by_role("button", name="Send test alert").click()
    page.wait_for_url("**/trading/signals/*/")
    assert page.locator("#signal-live").get_attribute("data-final") == "false"
    assert page.locator("#signal-status").inner_text() == "Received"
    signal_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    signal = signal_execute(signal_id=signal_id)  # as the worker would; the page is not reloaded
    assert signal.status in Signal.FINAL_STATUSES
    page.wait_for_selector('#signal-live[data-final="true"]', timeout=15_000)
    assert page.locator("#signal-status").inner_text() == signal.get_status_display()
    assert page.locator(".outcome .decision-text").inner_text() == "open"
    assert page.locator("#signal-updating").count() == 0
    assert net_position(sim) == 1
    # Once final, the page stops asking.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/live/" in r.url else None)
    page.wait_for_timeout(2500)
    assert requests == []


def test_the_close_all_result_updates_itself_to_what_is_open_now(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    received = signal_receive(
        strategy=ui_account.trader.strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode(),
    )
    signal_execute(signal_id=received.signal.pk)
    assert net_position(sim) == 1
    log_in(page, ui_account.trader.user.email)
    page.goto(f"/trading/control/accounts/{ui_account.subaccount_id}/close/")
    page.get_by_role("button", name="Yes, close everything listed").click()
    page.wait_for_selector(f"#result-{ui_account.subaccount_id}")
    # Read from the broker after the page arrived, without a reload.
    page.wait_for_selector('#close-state[data-final="true"]', timeout=15_000)
    assert page.locator("#all-flat").is_visible()
    assert net_position(sim) == 0
