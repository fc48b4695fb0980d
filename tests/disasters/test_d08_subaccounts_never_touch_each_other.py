"""D08 — take-profit orders of one account were cancelled/modified on another (no subaccount
column on order rows).

Invariant: every order row belongs to exactly one subaccount; acting on one never touches
another's orders. Two subaccounts, same symbol: closing one leaves the other's exits alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Subaccount
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory
from tests.signals.helpers import position, send, working
from trading.models import Order, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_closing_one_subaccount_leaves_the_other_untouched(
    trader_account: TraderAccount, strategy: Strategy, subaccounts: list[Subaccount], sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    other_strategy = StrategyFactory.create(
        user=strategy.user,
        name="Other",
        take_profits=strategy.take_profits,
        stop_distance=strategy.stop_distance,
        stop_unit=strategy.stop_unit,
    )
    other_trader = TraderFactory.create(strategy=other_strategy, user=strategy.user)
    TraderAccountFactory.create(trader=other_trader, subaccount=subaccounts[1])
    send(strategy, action="buy", ticker="MNQZ6")
    send(other_strategy, action="buy", ticker="MNQZ6")
    theirs = {o["id"] for o in working(sim, 1002)}
    assert len(theirs) == 2
    send(strategy, action="close", ticker="MNQZ6")
    assert position(sim, 1001) == 0 and working(sim, 1001) == []
    assert position(sim, 1002) == 1
    assert {o["id"] for o in working(sim, 1002)} == theirs
    assert all(o.subaccount_id is not None for o in Order.objects.all())
