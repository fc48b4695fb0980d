"""D48 -- CLOSE when broker flat opened a SHORT.

DISASTERS.md row D48:
    what happened: "CLOSE when broker flat opened a SHORT"
    invariant:     "CLOSE when flat is a logged no-op"
    proof:         "test"

A CLOSE arrived when the broker was already flat and the "close" went out as a sell, opening
a short. With the broker flat, CLOSE is IGNORED with the reason "already flat": no cancel, no
flatten, no entry -- and the reason is what gets logged.

Unit half; the end-to-end half (webhook -> worker -> simulator) lands with the executor.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.engine import Action, Decision, decide
from trading.settings_resolution import EffectiveSettings, OppositeDirection, SameDirection


@pytest.mark.parametrize("working", [(), (17, 18)])
@pytest.mark.parametrize("invert", [False, True])
def test_close_when_flat_places_nothing_and_says_already_flat(
    working: tuple[int, ...], invert: bool
) -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE, quantity=Decimal(2), price=Decimal("5000.25")),
        settings=EffectiveSettings(
            entry_size=2,
            use_alert_quantity=True,
            invert_signals=invert,
            on_same_direction=SameDirection.ADD,
            on_opposite_direction=OppositeDirection.REVERSE,
        ),
        broker=make_broker(0, working=working_exits(*working, side=Side.SELL)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.IGNORED
    assert "already flat" in plan.reason
    assert plan.entry is None
    assert plan.exits is None
    assert not plan.flatten
    assert plan.cancel_order_ids == ()
    assert plan.target_position == 0
