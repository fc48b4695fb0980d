"""The live pages in a real Chromium, served by a real uvicorn on ``config.asgi`` (the browser's
WebSocket needs the ASGI server; Django's test server speaks HTTP only), through the real
Redis channel layer.

A change goes the mirror's way: the row is written and committed, then
``mirror_changes_publish`` is called, as ``trading.mirror`` does after each commit. It must be
on the open page within 1 s, without a reload; a second user's open page gets nothing of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections

from accounts.models import User
from tests.factories import (
    BrokerConnectionFactory,
    CashBalanceFactory,
    OrderFactory,
    PositionFactory,
    SignalOutcomeFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
)
from tests.processes import web_running
from tests.ui.browser import log_in
from tests.ui.sim_setup import ui_account
from trading.live_frames import mirror_changes_publish
from trading.models import Order, Position

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

__all__ = ["ui_account"]

WITHIN_MS = 1000


@pytest.fixture
def web() -> Iterator[str]:
    with web_running(log_name="web-live-browser") as (base, _log):
        yield base


@pytest.fixture
def open_page(browser: Any, web: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``open_page(user)``: a new tab logged in as ``user`` on the uvicorn server, its live
    socket's frames recorded in ``tab.frames``."""
    # Playwright's sync API runs an event loop in this thread (see tests/conftest.py: page).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    contexts: list[Any] = []

    def opener(user: User) -> Any:
        context = browser.new_context(base_url=web)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        tab.frames_seen = []

        def on_socket(ws: Any) -> None:
            ws.on("framereceived", lambda payload: tab.frames_seen.append(payload))

        tab.on("websocket", on_socket)
        log_in(tab, user.email)
        return tab

    yield opener
    for context in contexts:
        context.close()


def _wait_live(tab: Any) -> None:
    """The tab's socket is open and its snapshot arrived: every change after it is applied."""
    tab.wait_for_selector('#live-status[data-state="open"]')
    deadline = time.monotonic() + 5
    while not any('"snapshot"' in str(f) for f in tab.frames_seen):
        assert time.monotonic() < deadline, "no snapshot frame on the live socket"
        tab.wait_for_timeout(20)


def _accounts(user: User) -> list[Any]:
    conn = BrokerConnectionFactory.create(user=user, label="Paper")
    return [
        SubaccountFactory.create(connection=conn, name=name, broker_account_id=number)
        for name, number in (("DEMO1001", 1001), ("DEMO1002", 1002))
    ]


def publish(**changed: Any) -> None:
    """``mirror_changes_publish`` as the mirror calls it: from a thread without an event loop
    (this test's thread runs Playwright's)."""

    def run() -> None:
        try:
            mirror_changes_publish(**changed)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def _within_1_s(tab: Any, script: str, arg: Any = None) -> float:
    """Milliseconds until ``script`` is true on the page; fails past 1 s."""
    return _within(tab, script, arg, ms=WITHIN_MS)


def _within(tab: Any, script: str, arg: Any = None, *, ms: int) -> float:
    """Milliseconds until ``script`` is true on the page; fails past ``ms``."""
    started = time.monotonic()
    tab.wait_for_function(script, arg=arg, timeout=ms)
    return (time.monotonic() - started) * 1000


def test_dashboard_shows_positions_and_orders_and_follows_mirror_changes_live(
    open_page: Any, user: User, other_user: User
) -> None:
    one, two = _accounts(user)
    long_mnq = PositionFactory.create(
        subaccount=one, symbol="MNQZ6", net_pos=1, net_price=Decimal("21000.25")
    )
    CashBalanceFactory.create(subaccount=one, amount=Decimal("50000"), realized_pnl=Decimal(0))
    _accounts(other_user)
    tab = open_page(user)
    theirs = open_page(other_user)

    # Rendered by the server (works without JS), per account, with its close buttons.
    account_one = tab.locator(f"#live-account-{one.pk}")
    row = tab.locator(f"#position-{long_mnq.pk}")
    assert row.inner_text().split("\t")[:3] == ["MNQZ6", "long 1", "21000.25"]
    assert "Balance $50,000.00" in account_one.inner_text()
    close = row.get_by_role("link", name="Close MNQZ6")
    assert close.get_attribute("href") == (
        f"/trading/control/accounts/{one.pk}/close/?contract={long_mnq.contract_id}&from=dashboard"
    )
    assert account_one.get_by_role("link", name="Close all on DEMO1001").is_visible()
    assert (
        tab.locator(f"#live-account-{two.pk}").get_by_text("Flat. No working order.").is_visible()
    )
    _wait_live(tab)
    _wait_live(theirs)
    tab.evaluate("() => { window.notReloaded = true; }")
    their_frames_before = len(theirs.frames_seen)

    # The mirror adds to the long and opens a short on the other account.
    Position.objects.filter(pk=long_mnq.pk).update(net_pos=3, net_price=Decimal("21001.50"))
    short_es = PositionFactory.create(
        subaccount=two, symbol="ESZ6", net_pos=-2, net_price=Decimal("6000.00")
    )
    publish(user_id=user.pk, position_pks=[long_mnq.pk, short_es.pk])
    took = _within_1_s(
        tab,
        """([mnq, es]) => {
            const a = document.getElementById('position-' + mnq);
            const b = document.getElementById('position-' + es);
            return a && a.innerText.includes('long 3') && a.innerText.includes('21001.50')
                && b && b.innerText.includes('short 2');
        }""",
        [long_mnq.pk, short_es.pk],
    )
    print(f"position change on the page {took:.0f} ms after the publish")
    assert tab.locator(f"#live-account-{two.pk}").get_by_text("Flat. No working order.").is_hidden()
    assert (
        tab.locator(f"#position-{short_es.pk}").get_by_role("link", name="Close ESZ6").is_visible()
    )

    # A stop starts working, then is cancelled; the long is flattened.
    stop = OrderFactory.create(
        subaccount=one,
        role=Order.Role.STOP,
        side="Sell",
        qty=3,
        order_type="Stop",
        price=None,
        stop_price=Decimal("20990"),
        state=Order.State.WORKING,
    )
    publish(user_id=user.pk, order_pks=[stop.pk])
    _within_1_s(
        tab,
        "id => { const r = document.getElementById('order-' + id);"
        " return r && r.innerText.includes('Stop') && r.innerText.includes('20990.00'); }",
        stop.pk,
    )
    assert tab.locator(f"#order-{stop.pk}").inner_text().split("\t")[:5] == [
        "MNQZ6",
        "Stop",
        "Sell",
        "3",
        "Stop",
    ]
    Order.objects.filter(pk=stop.pk).update(state=Order.State.CANCELLED)
    Position.objects.filter(pk=long_mnq.pk).update(net_pos=0)
    publish(user_id=user.pk, order_pks=[stop.pk], position_pks=[long_mnq.pk])
    _within_1_s(
        tab,
        "([o, p]) => !document.getElementById('order-' + o)"
        " && !document.getElementById('position-' + p)",
        [stop.pk, long_mnq.pk],
    )
    assert account_one.get_by_text("Flat. No working order.").is_visible()

    # The flattening settled: the balance follows (a cash frame), still without a reload.
    from trading.models import CashBalance

    cash = CashBalance.objects.get(subaccount=one)
    CashBalance.objects.filter(pk=cash.pk).update(amount=Decimal("50004.50"))
    publish(user_id=user.pk, cash_pks=[cash.pk])
    _within_1_s(
        tab,
        "id => document.getElementById('live-account-' + id).innerText"
        ".includes('Balance $50,004.50')",
        one.pk,
    )
    assert tab.evaluate("() => window.notReloaded") is True

    # The other user's open dashboard got nothing of it.
    theirs.wait_for_timeout(300)
    assert theirs.frames_seen[their_frames_before:] == []
    assert "MNQZ6" not in theirs.locator("#live-accounts").inner_text()


def test_signal_page_and_control_centre_refresh_when_a_frame_about_them_arrives(
    open_page: Any, user: User
) -> None:
    one, _two = _accounts(user)
    trader = TraderFactory.create(strategy__user=user, name="MNQ follower")
    account = TraderAccountFactory.create(trader=trader, subaccount=one)
    outcome = SignalOutcomeFactory.create(trader_account=account)
    take_profit = OrderFactory.create(
        subaccount=one, signal=outcome.signal, outcome=outcome, state=Order.State.WORKING
    )
    tab = open_page(user)

    tab.goto(f"/trading/signals/{outcome.signal_id}/")
    _wait_live(tab)
    orders = tab.locator(f"#outcome-{outcome.pk} table.orders")
    assert "Working" in orders.inner_text()
    # The signal is final (done): the page no longer polls; the frame makes it read again.
    Order.objects.filter(pk=take_profit.pk).update(
        state=Order.State.FILLED, filled_qty=1, avg_fill_price=Decimal("21010")
    )
    publish(user_id=user.pk, order_pks=[take_profit.pk])
    _within_1_s(
        tab,
        "id => document.querySelector('#outcome-' + id + ' table.orders')"
        ".innerText.includes('Filled')",
        outcome.pk,
    )

    tab.goto("/trading/control/")
    _wait_live(tab)
    open_now = tab.locator(f"#open-now-{trader.pk}-{one.pk}")
    assert open_now.inner_text() == "flat"
    position = PositionFactory.create(subaccount=one, symbol="MNQZ6", net_pos=2)
    publish(user_id=user.pk, position_pks=[position.pk])
    _within_1_s(
        tab,
        "id => document.getElementById(id).innerText === 'long 2 MNQZ6'",
        f"open-now-{trader.pk}-{one.pk}",
    )


def test_a_fill_made_at_the_simulator_appears_within_1_s(
    open_page: Any, ui_account: Any, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.processes import running, streams_cmd
    from tests.simulator.helpers import Api

    user = ui_account.trader.user
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    with running(streams_cmd(), log_name="streams-live-browser"):
        tab = open_page(user)
        _wait_live(tab)
        api = Api(sim)
        # Warm-up: the first fill shows the stream is up (its connect time is not measured).
        api.place(symbol="MNQZ6", orderQty=1, action="Buy")
        tab.wait_for_function(
            "() => document.querySelector('#live-accounts').innerText.includes('long 1')",
            timeout=20_000,
        )
        api.place(symbol="MNQZ6", orderQty=1, action="Buy")
        took = _within_1_s(
            tab, "() => document.querySelector('#live-accounts').innerText.includes('long 2')"
        )
        print(f"fill at the simulator on the page after {took:.0f} ms")
        assert any('"kind": "fill"' in frame for frame in tab.frames_seen)


def test_a_take_profit_filling_at_the_simulator_shows_on_the_signal_page_and_dashboard_within_1_s(
    open_page: Any, ui_account: Any, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10's acceptance: the take-profit fills at the simulator; within 1 s its row says
    Filled and its stop Cancelled in the signal log, the dashboard shows the position flat,
    and the entry row carries its fill price."""
    from tests.processes import running, streams_cmd
    from tests.signals.helpers import only_outcome, send

    user = ui_account.trader.user
    strategy = ui_account.trader.strategy
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    with running(streams_cmd(), log_name="streams-live-acceptance"):
        dashboard = open_page(user)
        _wait_live(dashboard)
        dashboard.wait_for_function(  # the stream is up: its snapshot put the position here
            "() => document.querySelector('#live-accounts').innerText.includes('long 1')",
            timeout=20_000,
        )
        signal_page = open_page(user)
        signal_page.goto(f"/trading/signals/{outcome.signal_id}/")
        _wait_live(signal_page)
        signal_page.wait_for_function(
            "() => document.querySelector('tr[data-role=\"entry\"] td.fill')"
            ".innerText.includes('1 @ 18000.00')",
            timeout=10_000,
        )

        sim.control.step("MNQZ6", 20)  # the take-profit's price: it fills, its stop goes

        took = _within_1_s(
            signal_page,
            "() => document.querySelector('tr[data-role=\"take_profit\"]').dataset.state"
            " === 'filled' && document.querySelector('tr[data-role=\"stop\"]').dataset.state"
            " === 'cancelled'",
        )
        flat = _within_1_s(
            dashboard,
            "() => !document.querySelector('#live-accounts').innerText.includes('long 1')",
        )
        print(f"signal page {took:.0f} ms, dashboard flat {flat:.0f} ms after the fill")
    take_profit = Order.objects.get(outcome=outcome, role=Order.Role.TAKE_PROFIT)
    assert (take_profit.state, take_profit.avg_fill_price) == ("filled", Decimal("18005"))


def test_open_pnl_and_a_stop_cancelled_at_the_broker_show_on_the_dashboard(
    open_page: Any, ui_account: Any, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 §4: an open position's P&L follows the market-data socket's last price on the
    open dashboard; when its stop is cancelled at the broker, reconciliation's warning is on
    its row, live and after a reload (rendered by the server)."""
    from tests.processes import running, streams_cmd, wait_for
    from tests.signals.helpers import only_outcome, send
    from tests.simulator.helpers import Api

    user = ui_account.trader.user
    # Long 1 MNQ at 18000.00 with a take-profit 20 ticks above and a stop 10 ticks below.
    outcome = only_outcome(send(ui_account.trader.strategy, action="buy", ticker="MNQ1!"))
    stop = Order.objects.get(outcome=outcome, role=Order.Role.STOP)
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("STREAM_RESYNC_SECONDS", "1")  # reconciliation every second
    with running(streams_cmd(refresh_seconds=0.5), log_name="streams-live-pnl"):
        positions = Position.objects.filter(subaccount=ui_account.subaccount, net_pos=1)
        wait_for(positions.exists, timeout=20, what="the mirror to hold the long")
        row_id = f"position-{positions.get().pk}"
        tab = open_page(user)
        _wait_live(tab)
        pnl_is = (
            "([id, text]) => { const r = document.getElementById(id);"
            " return r && r.querySelector('[data-field=open_pnl_text]').innerText === text; }"
        )
        tab.wait_for_function(pnl_is, arg=[row_id, "$0.00"], timeout=20_000)  # quoted at entry

        sim.control.step("MNQZ6", 8)  # +2 points x $2
        took = _within(tab, pnl_is, [row_id, "+$4.00"], ms=2000)  # frames: one a second at most
        print(f"open P&L on the page {took:.0f} ms after the price move")
        warning = tab.locator(f"#{row_id} [data-field=problem]")
        assert warning.is_hidden()

        Api(sim).post("/order/cancelorder", {"orderId": stop.broker_order_id, "isAutomated": True})
        _within(
            tab,
            "id => { const w = document.querySelector('#' + id + ' [data-field=problem]');"
            " return w && !w.hidden && w.innerText.includes('No stop at the broker'); }",
            row_id,
            ms=5000,
        )
        words = warning.inner_text()
        assert f"the stop placed by signal #{outcome.signal_id} was cancelled" in words
        assert "Place a stop or close the position." in words
        assert "has-problem" in (tab.locator(f"#{row_id}").get_attribute("class") or "")

        tab.reload()  # the server renders the same row from the snapshot and the stored price
        assert tab.locator(f"#{row_id} [data-field=problem]").inner_text() == words
        assert tab.locator(f"#{row_id} [data-field=open_pnl_text]").inner_text() == "+$4.00"
