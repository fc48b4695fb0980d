"""D45 -- reversal closed but never re-entered.

DISASTERS.md row D45:
    what happened: "reversal closed but never re-entered"
    invariant:     "reversal = close then open the other side"
    proof:         "test"

A SELL against a long with ``on_opposite_direction=reverse`` closed the long and stopped. The
plan for a reverse cancels the exits, flattens, and carries the entry on the other side with
its exits; only a filter can stop the new side, and then the plan says so (CLOSE_OPPOSITE
with the filter's reason), never silently.

Unit half; the end-to-end half (webhook -> worker -> simulator) lands with the executor.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.engine import Action, Decision, decide
from trading.settings_resolution import DirectionFilter, EffectiveSettings, OppositeDirection

REVERSE = EffectiveSettings(
    entry_size=2, multiplier=Decimal(1), on_opposite_direction=OppositeDirection.REVERSE
)


@pytest.mark.parametrize(
    ("held", "action", "side", "target"),
    [
        (3, Action.SELL, Side.SELL, -2),
        (-3, Action.BUY, Side.BUY, 2),
        (1, Action.SELL, Side.SELL, -2),
    ],
)
def test_reverse_closes_then_opens_the_other_side(
    held: int, action: Action, side: Side, target: int
) -> None:
    plan = decide(
        alert=make_alert(action),
        settings=REVERSE,
        broker=make_broker(held, working=working_exits(41, 42)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.REVERSE
    assert plan.cancel_order_ids == (41, 42)
    assert plan.flatten
    assert plan.entry is not None
    assert (plan.entry.side, plan.entry.qty) == (side, 2)
    assert plan.exits is not None
    assert plan.target_position == target


def test_a_reverse_whose_new_side_is_filtered_closes_and_says_why() -> None:
    plan = decide(
        alert=make_alert(Action.SELL),
        settings=EffectiveSettings(
            entry_size=2,
            on_opposite_direction=OppositeDirection.REVERSE,
            direction_filter=DirectionFilter.LONG_ONLY,
        ),
        broker=make_broker(3, working=working_exits(41)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.CLOSE_OPPOSITE
    assert plan.flatten
    assert plan.entry is None
    assert "not reversing" in plan.reason and "long_only" in plan.reason
    assert plan.target_position == 0
