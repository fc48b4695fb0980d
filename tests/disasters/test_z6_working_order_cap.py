"""Z6 — 52 orphan orders accumulated on one account.

Invariant: a per-account cap on working orders stops new entries; our exits left behind on a
flat position are cancelled.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, outside_order, position, send, working
from trading.models import SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_orphan_exits_on_a_flat_position_are_cancelled(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    send(strategy, action="buy", ticker="MNQZ6", id="o1")
    outside_order(sim, "Sell", 1)  # closed by hand: the exits are orphaned
    assert position(sim) == 0 and len(working(sim)) == 2
    outcome = only_outcome(send(strategy, action="close", ticker="MNQZ6", id="o2"))
    assert outcome.decision == "ignored"
    assert working(sim) == []


def test_entries_stop_at_the_working_order_cap(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, settings: Any
) -> None:
    settings.WORKING_ORDERS_CAP = 2
    sim.control.set_price("MNQZ6", "18000.00")
    send(strategy, action="buy", ticker="MNQZ6", id="c1")  # leaves 2 working exits
    Strategy.objects.filter(pk=strategy.pk).update(on_same_direction="add")
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="c2"))
    assert outcome.status == SignalOutcome.Status.SAFETY_BLOCK
    assert "working orders (Z6 cap)" in outcome.reason
    assert position(sim) == 1
