"""A follower's target and delta (copytrade/sizing.py): a table, then properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copytrade.sizing import (
    Sizing,
    follower_contract,
    follower_delta,
    follower_target,
    reduce_only,
)


@pytest.mark.parametrize(
    ("leader", "sizing", "target"),
    [
        (1, Sizing(), 1),
        (3, Sizing(ratio=Decimal(2)), 6),
        (3, Sizing(ratio=Decimal(-1)), -3),  # inverse
        (1, Sizing(ratio=Decimal("0.5")), 0),  # rounded toward zero: never more than asked
        (-3, Sizing(ratio=Decimal("0.5")), -1),
        (5, Sizing(ratio=Decimal(2), max_contracts=4), 4),
        (-5, Sizing(ratio=Decimal(2), max_contracts=4), -4),
        (2, Sizing(fixed_qty=3), 3),
        (-2, Sizing(fixed_qty=3), -3),
        (0, Sizing(fixed_qty=3), 0),
        (0, Sizing(ratio=Decimal(-2)), 0),
    ],
)
def test_targets(leader: int, sizing: Sizing, target: int) -> None:
    assert follower_target(leader_net=leader, sizing=sizing) == target


ratios = st.decimals(min_value=Decimal(-5), max_value=Decimal(5), places=2).filter(lambda r: r != 0)


@given(leader=st.integers(-50, 50), ratio=ratios, cap=st.none() | st.integers(0, 20))
def test_a_target_never_exceeds_the_ratio_or_the_cap_and_follows_the_direction(
    leader: int, ratio: Decimal, cap: int | None
) -> None:
    target = follower_target(leader_net=leader, sizing=Sizing(ratio=ratio, max_contracts=cap))
    assert abs(target) <= abs(leader * ratio)
    if cap is not None:
        assert abs(target) <= cap
    if target != 0:
        assert (target > 0) == ((leader > 0) == (ratio > 0))


@given(
    path=st.lists(st.integers(-20, 20), min_size=1, max_size=12),
    ratio=ratios,
    held=st.integers(-10, 10),
)
def test_deltas_along_any_leader_path_land_on_the_target_and_a_replay_sends_nothing(
    path: list[int], ratio: Decimal, held: int
) -> None:
    """D33: whatever the leader does (adds, partial closes, reversals), the follower reaches
    its target by deltas, and the same leader position again sends nothing."""
    sizing = Sizing(ratio=ratio)
    for leader in path:
        target = follower_target(leader_net=leader, sizing=sizing)
        held += follower_delta(target=target, held=held)
        assert held == target
        assert follower_delta(target=target, held=held) == 0


def test_contract_mapping_keeps_month_and_year() -> None:
    assert follower_contract(leader_symbol="NQZ6", symbol_map={"NQ": "MNQ"}).tradovate_name == (
        "MNQZ6"
    )
    assert follower_contract(leader_symbol="ESH7", symbol_map={}).tradovate_name == "ESH7"
    with pytest.raises(ValueError):
        follower_contract(leader_symbol="NQZ6", symbol_map={"NQ": "XXX"})


@pytest.mark.parametrize(
    ("target", "held", "allowed"),
    [
        (4, 2, 2),  # an add: cut to what it holds
        (1, 2, 1),  # a partial close: copied
        (0, 2, 0),  # a close: copied
        (-2, 2, 0),  # a reversal: closed, never reversed
        (2, 0, 0),  # flat: nothing opened
        (-3, -5, -3),
    ],
)
def test_a_disarmed_follower_is_only_ever_reduced(target: int, held: int, allowed: int) -> None:
    assert reduce_only(target=target, held=held) == allowed
