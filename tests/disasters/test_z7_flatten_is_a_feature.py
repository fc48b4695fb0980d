"""Z7 — excess positions were closed by a one-off script.

Invariant: "flatten" and "reconcile" are product features (UI + admin), with confirmation.
Here: the control centre's "close all positions" shows exactly what is open at the broker
(account, symbol, position, working orders), and only on confirmation cancels the working
orders and flattens the position, at the simulator, reporting what it did.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.ui.browser import log_in
from tests.ui.sim_setup import net_position, ui_account, working_orders
from trading.execution import signal_execute
from trading.models import Order, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["ui_account"]


def _open_long(account: TraderAccount) -> None:
    received = signal_receive(
        strategy=account.trader.strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode(),
    )
    signal_execute(signal_id=received.signal.pk)


@pytest.mark.browser
def test_close_all_of_a_trader_from_the_control_centre_with_confirmation(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    _open_long(ui_account)
    assert net_position(sim) == 1
    assert len(working_orders(sim)) == 2  # take-profit and stop
    trader = ui_account.trader
    log_in(page, trader.user.email)
    page.get_by_role("link", name="Control", exact=True).click()
    page.get_by_role("link", name=f"Close all positions of {trader.name}").click()
    # The confirmation names exactly what will be closed, read from the broker; nothing yet.
    exposure = page.locator(f"#exposure-{ui_account.subaccount_id}")
    assert "DEMO1001" in exposure.inner_text()
    assert "MNQZ6" in exposure.locator("table.positions").inner_text()
    assert "long 1" in exposure.locator("table.positions").inner_text()
    assert exposure.locator("table.working-orders tbody tr").count() == 2
    assert net_position(sim) == 1
    page.get_by_role("button", name="Yes, close everything listed").click()
    result = page.locator(f"#result-{ui_account.subaccount_id}")
    assert "done" in result.inner_text()
    assert "Flattened MNQZ6: was long 1" in result.inner_text()
    assert result.get_by_text("Cancelled order").count() == 2
    assert net_position(sim) == 0
    assert working_orders(sim) == []
    # Our own records of the cancelled exits say so.
    exits = Order.objects.filter(role__in=["take_profit", "stop"], subaccount=ui_account.subaccount)
    assert {o.state for o in exits} == {Order.State.CANCELLED}
    # Again: nothing open, nothing to confirm.
    page.goto(f"/trading/control/accounts/{ui_account.subaccount_id}/close/")
    assert page.locator("#nothing-open").is_visible()


def test_a_stale_confirmation_closes_nothing(ui_account: TraderAccount, sim: Any) -> None:
    client = Client()
    client.force_login(ui_account.trader.user)
    url = reverse("trading:account_close", args=[ui_account.subaccount_id])
    shown = client.get(url)
    assert shown.status_code == 200
    assert "Nothing is open" in shown.content.decode()
    _open_long(ui_account)  # the position changes after the page was shown
    stale = client.post(url, {"fingerprint": shown.context["fingerprint"]})
    assert stale.status_code == 409
    assert "changed since you looked" in stale.content.decode()
    assert net_position(sim) == 1


def test_a_broker_refusal_is_reported_in_the_brokers_words(
    ui_account: TraderAccount, sim: Any
) -> None:
    _open_long(ui_account)
    client = Client()
    client.force_login(ui_account.trader.user)
    url = reverse("trading:account_close", args=[ui_account.subaccount_id])
    fingerprint = client.get(url).context["fingerprint"]
    sim.control.faults(http_5xx={"count": 5, "status": 503, "endpoints": ["order/cancelorder"]})
    response = client.post(url, {"fingerprint": fingerprint})
    text = response.content.decode()
    assert response.status_code == 200
    assert "some steps failed" in text
    assert "Cancelling order" in text
    assert "503" in text
