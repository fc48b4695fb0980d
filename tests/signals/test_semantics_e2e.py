"""DESIGN.md §4 end to end: alert -> executor -> simulator, for each row of the table."""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, position, send, working
from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _price(sim: Any) -> None:
    sim.control.set_price("MNQZ6", "18000.00")


def _set(strategy: Strategy, **settings: Any) -> None:
    Strategy.objects.filter(pk=strategy.pk).update(**settings)


def test_entry_then_same_direction_ignored(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    assert only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="a1")).decision == "open"
    second = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="a2"))
    assert second.decision == "ignored" and "long" in second.reason
    assert position(sim) == 1 and len(working(sim)) == 2


def test_add_cancels_old_exits_and_places_one_set_for_the_whole_position(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _set(strategy, on_same_direction="add", add_size=2)
    send(strategy, action="buy", ticker="MNQZ6", id="b1")
    first_exits = {o["id"] for o in working(sim)}
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="b2"))
    assert outcome.decision == "add"
    assert position(sim) == 3
    exits = working(sim)
    assert not first_exits & {o["id"] for o in exits}  # D29: the old set is gone
    versions = {v["orderId"]: v for v in sim.control.state()["orderVersions"]}
    tp_qty = sum(
        versions[o["id"]]["orderQty"] for o in exits if versions[o["id"]]["orderType"] == "Limit"
    )
    stop_qty = sum(
        versions[o["id"]]["orderQty"] for o in exits if versions[o["id"]]["orderType"] == "Stop"
    )
    assert tp_qty == 3 and stop_qty == 3


def test_reenter_flattens_then_opens_fresh(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _set(strategy, on_same_direction="reenter")
    send(strategy, action="buy", ticker="MNQZ6", id="c1")
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="c2"))
    assert outcome.decision == "reenter"
    assert position(sim) == 1 and len(working(sim)) == 2  # never stacked


def test_reverse_closes_then_opens_the_other_side(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    send(strategy, action="buy", ticker="MNQZ6", id="d1")
    outcome = only_outcome(send(strategy, action="sell", ticker="MNQZ6", id="d2"))
    assert outcome.decision == "reverse"
    assert (outcome.position_before, outcome.position_after) == (1, -1)
    assert position(sim) == -1
    assert {o["action"] for o in working(sim)} == {"Buy"}  # the short's exits only


def test_opposite_close_only_closes(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _set(strategy, on_opposite_direction="close")
    send(strategy, action="buy", ticker="MNQZ6", id="e1")
    outcome = only_outcome(send(strategy, action="sell", ticker="MNQZ6", id="e2"))
    assert outcome.decision == "close_opposite"
    assert position(sim) == 0 and working(sim) == []


def test_close_flattens_and_cancels_exits(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    send(strategy, action="sell", ticker="MNQZ6", id="f1")
    outcome = only_outcome(send(strategy, action="close", ticker="MNQZ6", id="f2"))
    assert outcome.decision == "close"
    assert position(sim) == 0 and working(sim) == []


def test_close_when_flat_places_nothing(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    before = sim.control.counters()["orders_placed"]
    outcome = only_outcome(send(strategy, action="close", ticker="MNQZ6", id="g1"))
    assert outcome.decision == "ignored" and "flat" in outcome.reason
    assert sim.control.counters()["orders_placed"] == before
    assert position(sim) == 0
