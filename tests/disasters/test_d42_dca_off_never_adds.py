"""D42 -- DCA off, same direction: 3+3+3 = 9 contracts.

DISASTERS.md row D42:
    what happened: "DCA off, same direction: 3+3+3 = 9 contracts"
    invariant:     "DCA off never adds to a position"
    proof:         "test"

Three BUY alerts in a row with DCA off each bought 3 contracts: long 9 instead of 3. With
``on_same_direction=ignore`` a same-direction signal places nothing; with ``reenter`` it
flattens and enters fresh, so the position is the entry size again, never a sum.

Unit half; the end-to-end half (webhook -> worker -> simulator) lands with the executor.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.engine import Action, Decision, Plan, decide
from trading.settings_resolution import EffectiveSettings, SameDirection


def apply(position: int, plan: Plan) -> int:
    if plan.flatten:
        position = 0
    if plan.entry is not None:
        position += plan.entry.qty if plan.entry.side is Side.BUY else -plan.entry.qty
    return position


@pytest.mark.parametrize("action", [Action.BUY, Action.SELL])
def test_three_same_direction_alerts_with_dca_off_hold_three_not_nine(action: Action) -> None:
    settings_ = EffectiveSettings(entry_size=3, add_size=3, on_same_direction=SameDirection.IGNORE)
    position = 0
    for _ in range(3):
        plan = decide(
            alert=make_alert(action),
            settings=settings_,
            broker=make_broker(position),
            filters=NO_FILTERS,
            spec=ES,
        )
        position = apply(position, plan)
    assert abs(position) == 3


@settings(max_examples=100, deadline=None)
@given(
    held=st.integers(1, 20),
    long=st.booleans(),
    entry_size=st.integers(0, 5),
    add_size=st.integers(0, 5),
    multiplier=st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(3)]),
    alert_qty=st.none() | st.integers(0, 5).map(Decimal),
    use_alert_quantity=st.booleans(),
)
def test_same_direction_ignore_never_places_an_order(
    held: int,
    long: bool,
    entry_size: int,
    add_size: int,
    multiplier: Decimal,
    alert_qty: Decimal | None,
    use_alert_quantity: bool,
) -> None:
    position = held if long else -held
    plan = decide(
        alert=make_alert(Action.BUY if long else Action.SELL, quantity=alert_qty),
        settings=EffectiveSettings(
            entry_size=entry_size,
            add_size=add_size,
            multiplier=multiplier,
            use_alert_quantity=use_alert_quantity,
            on_same_direction=SameDirection.IGNORE,
        ),
        broker=make_broker(position, working=working_exits(1, 2)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.IGNORED
    assert plan.entry is None
    assert not plan.flatten
    assert plan.cancel_order_ids == ()
    assert plan.target_position == position


@pytest.mark.parametrize("held", [1, 3, 7])
def test_reenter_leaves_the_entry_size_never_a_sum(held: int) -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(
            entry_size=3, add_size=3, on_same_direction=SameDirection.REENTER
        ),
        broker=make_broker(held, working=working_exits(5, 6)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.REENTER
    assert plan.flatten
    assert plan.cancel_order_ids == (5, 6)
    assert apply(held, plan) == 3
