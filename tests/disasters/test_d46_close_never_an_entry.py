"""D46 -- CLOSE parsed as SHORT.

DISASTERS.md row D46:
    what happened: "CLOSE parsed as SHORT"
    invariant:     "actions map through one explicit table; CLOSE is never an entry"
    proof:         "test"

A "close" alert was treated as a sell and opened a short. In the engine, CLOSE is its own
action: whatever the position, the settings (same/opposite, invert_signals, sizes) or the
alert's quantity, a CLOSE plan has no entry and never leaves a position larger than before.
The parser's action table is tested with the parser.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.engine import Action, Decision, decide
from trading.settings_resolution import EffectiveSettings, OppositeDirection, SameDirection

COMBOS = list(itertools.product([-4, -1, 0, 1, 4], SameDirection, OppositeDirection, [False, True]))


def test_action_is_exactly_buy_sell_close() -> None:
    assert [a.value for a in Action] == ["buy", "sell", "close"]
    assert Action("close") is Action.CLOSE


@pytest.mark.parametrize(("position", "same", "opposite", "invert"), COMBOS)
def test_close_is_never_an_entry(
    position: int, same: SameDirection, opposite: OppositeDirection, invert: bool
) -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE, quantity=Decimal(5)),
        settings=EffectiveSettings(
            entry_size=3,
            use_alert_quantity=True,
            on_same_direction=same,
            on_opposite_direction=opposite,
            invert_signals=invert,
        ),
        broker=make_broker(position, working=working_exits(9)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is None
    assert plan.exits is None
    assert plan.target_position == 0
    assert plan.decision is (Decision.IGNORED if position == 0 else Decision.CLOSE)
    assert plan.flatten is (position != 0)


def test_invert_signals_leaves_close_a_close() -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE),
        settings=EffectiveSettings(invert_signals=True),
        broker=make_broker(2),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.CLOSE
    assert "inverted" not in plan.reason
