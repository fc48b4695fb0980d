"""Preview: what an alert would do on your accounts now, read from the broker, nothing sent;
and a test alert never trades a subscriber's account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TraderAccountFactory, TraderFactory, UserFactory
from tests.signals.helpers import outside_order
from tests.ui.sim_setup import net_position, ui_account, working_orders
from trading import control
from trading.execution import signal_execute
from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["ui_account"]


def _preview(account: TraderAccount, action: str) -> str:
    client = Client()
    client.force_login(account.trader.user)
    url = reverse("trading:strategy_preview", args=[account.trader.strategy_id])
    response = client.post(url, {"action": action})
    assert response.status_code == 200
    return response.content.decode()


def test_preview_shows_the_decision_and_orders_and_sends_nothing(
    ui_account: TraderAccount, sim: Any
) -> None:
    placed = sim.control.counters().get("orders_placed", 0)
    page = _preview(ui_account, "buy")
    assert "Nothing was sent" in page
    assert "open long 1 (entry_size=1 x multiplier 1.000 = 1)" in page
    assert "would buy 1 MNQZ6 at market" in page  # the conditional: nothing was sent
    assert "would then place exits from the fill price" in page
    assert "take-profit 20 ticks x 100 percent" in page and "stop 10 ticks" in page
    assert sim.control.counters().get("orders_placed", 0) == placed
    assert net_position(sim) == 0 and working_orders(sim) == []

    outside_order(sim, "Buy", 2)  # now long 2 at the broker
    page = _preview(ui_account, "sell")
    assert "<td>2</td>" in page  # the position read from the broker now
    assert "reverse" in page
    assert net_position(sim) == 2


def test_preview_names_an_account_it_cannot_read(ui_account: TraderAccount, sim: Any) -> None:
    sim.control.faults(http_5xx={"count": 10, "status": 503})
    page = _preview(ui_account, "buy")
    assert "Could not preview" in page


def test_a_test_alert_never_trades_a_subscribers_account(
    ui_account: TraderAccount, sim: Any
) -> None:
    strategy = ui_account.trader.strategy
    Strategy.objects.filter(pk=strategy.pk).update(visibility="public")
    subscriber = UserFactory.create()
    follower = TraderFactory.create(strategy=strategy, user=subscriber, name="Subscriber")
    other = TraderAccountFactory.create(trader=follower)
    received = control.strategy_test_alert_send(strategy=strategy, action="buy")
    signal = signal_execute(signal_id=received.signal.pk)
    assert [o.trader_account_id for o in signal.outcomes.all()] == [ui_account.pk]
    assert other.outcomes.count() == 0
    assert json.loads(received.signal.raw_body)["action"] == "buy"
    assert net_position(sim) == 1
