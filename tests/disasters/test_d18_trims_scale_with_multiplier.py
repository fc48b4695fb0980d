"""D18 -- multiplier not applied to trims (1,1,13 not 5,5,5).

DISASTERS.md row D18:
    what happened: "multiplier not applied to trims (1,1,13 not 5,5,5)"
    invariant:     "trims scale with the multiplier and sum to the position"
    proof:         "property test"

Three take-profit levels of 1 contract each on a follower with multiplier 5: the entry was 15
but the trims stayed 1 and 1, and the last one took 13. Contract levels are multiplied by the
multiplier, percent levels are of the position, and the take-profits always sum to it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine import ES, NO_FILTERS, make_alert, make_broker
from trading.engine import Action, ExitRule, decide
from trading.engine_exits import exits_for
from trading.settings_resolution import DistanceUnit, EffectiveSettings, QtyUnit, TakeProfitLevel


def levels(qty: Decimal, unit: QtyUnit, count: int = 3) -> tuple[TakeProfitLevel, ...]:
    return tuple(
        TakeProfitLevel(Decimal(4 * (i + 1)), DistanceUnit.TICKS, qty, unit) for i in range(count)
    )


def rule(take_profits: tuple[TakeProfitLevel, ...], multiplier: Decimal) -> ExitRule:
    return ExitRule(take_profits, None, None, None, multiplier, None, None)


def test_three_one_contract_trims_at_multiplier_five_are_five_five_five() -> None:
    settings_ = EffectiveSettings(
        entry_size=3, multiplier=Decimal(5), take_profits=levels(Decimal(1), QtyUnit.CONTRACTS)
    )
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=settings_,
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is not None and plan.entry.qty == 15
    assert plan.exits is not None
    exits = exits_for(rule=plan.exits, net_pos=15, net_price=Decimal(5000), spec=ES)
    assert [tp.qty for tp in exits.take_profits] == [5, 5, 5]


def test_five_contracts_in_three_equal_percent_levels_are_two_two_one() -> None:
    exits = exits_for(
        rule=rule(levels(Decimal("33.33"), QtyUnit.PERCENT), Decimal(1)),
        net_pos=-5,
        net_price=Decimal(5000),
        spec=ES,
    )
    assert [tp.qty for tp in exits.take_profits] == [2, 2, 1]


@settings(max_examples=150, deadline=None)
@given(
    qty=st.integers(1, 3).map(Decimal),
    count=st.integers(1, 5),
    multiplier=st.sampled_from(
        [Decimal("0.5"), Decimal(1), Decimal(2), Decimal(3), Decimal(5), Decimal(10)]
    ),
    entry_size=st.integers(1, 4),
)
def test_trims_scale_with_the_multiplier_and_sum_to_the_position(
    qty: Decimal, count: int, multiplier: Decimal, entry_size: int
) -> None:
    settings_ = EffectiveSettings(
        entry_size=entry_size,
        multiplier=multiplier,
        take_profits=levels(qty, QtyUnit.CONTRACTS, count),
    )
    plan = decide(
        alert=make_alert(Action.SELL),
        settings=settings_,
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    if plan.entry is None:
        return  # entry_size x 0.5 rounded to 0: nothing to trim
    assert plan.exits is not None
    position = plan.entry.qty
    exits = exits_for(rule=plan.exits, net_pos=-position, net_price=Decimal("5000.10"), spec=ES)
    got = [tp.qty for tp in exits.take_profits]
    assert sum(got) == position
    per_level = int((qty * multiplier).to_integral_value(ROUND_HALF_UP))
    remaining = position
    for q in got[:-1]:
        assert q == min(per_level, remaining), (got, per_level)
        remaining -= q
