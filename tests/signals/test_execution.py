"""The executor against the simulator, called directly (the worker path has its own tests)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from trading.execution import signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _alert(strategy: Strategy, **fields: Any) -> Signal:
    received = signal_receive(strategy=strategy, raw=json.dumps(fields).encode())
    assert received.status == "accepted", received.reason
    return received.signal


def test_buy_when_flat_opens_with_take_profit_and_stop(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    signal = signal_execute(signal_id=_alert(strategy, action="buy", ticker="MNQZ2026").pk)
    assert signal.status == Signal.Status.DONE
    (outcome,) = signal.outcomes.all()
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "open"), outcome.reason
    assert (outcome.position_before, outcome.position_after) == (0, 1)
    orders = {o.role: o for o in Order.objects.filter(outcome=outcome)}
    assert orders["entry"].state == Order.State.FILLED  # the broker position says so
    assert orders["take_profit"].price == Decimal("18005.00")  # 20 ticks x 0.25
    assert orders["stop"].stop_price == Decimal("17997.50")  # 10 ticks
    working = [o for o in sim.control.state()["orders"] if o["ordStatus"] == "Working"]
    assert sorted(o["clOrdId"] for o in working) == sorted(
        [orders["take_profit"].cl_ord_id, orders["stop"].cl_ord_id]
    )


def test_every_order_sent_is_a_row_on_the_signal_page_the_close_and_a_reversal_too(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Any
) -> None:
    """A CLOSE's liquidation and a reversal's closing order are Order rows of role "close",
    shown on the signal page (the page said "No order was placed" for every CLOSE)."""
    sim.control.set_price("MNQZ6", "18000.00")
    signal_execute(signal_id=_alert(strategy, action="buy", ticker="MNQZ6").pk)
    reversal = signal_execute(signal_id=_alert(strategy, action="sell", ticker="MNQZ6").pk)
    rows = {o.role: o for o in Order.objects.filter(signal=reversal)}
    assert sorted(rows) == ["entry", "flatten", "stop", "take_profit"]
    assert (rows["flatten"].side, rows["flatten"].qty, rows["flatten"].state) == (
        "Sell",
        1,
        Order.State.FILLED,
    )
    assert rows["flatten"].broker_order_id is not None
    close = signal_execute(signal_id=_alert(strategy, action="close", ticker="MNQZ6").pk)
    (closing,) = Order.objects.filter(signal=close)
    assert (closing.role, closing.side, closing.qty, closing.state) == (
        "flatten",
        "Buy",
        1,
        "filled",
    )
    page = owner_client.get(f"/trading/signals/{close.pk}/").content.decode()
    assert "No order was placed" not in page
    assert "Close (flatten)" in page
