"""Trades from fills (analytics/round_trips.py): a table of the shapes, then properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.round_trips import FillIn, round_trips

T0 = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def fills(*steps: tuple[int, int, str]) -> list[FillIn]:
    """(side, qty, price) per fill, a second apart."""
    return [
        FillIn(key=n, at=T0 + timedelta(seconds=n), side=side, qty=qty, price=Decimal(price))
        for n, (side, qty, price) in enumerate(steps, start=1)
    ]


def test_a_long_in_and_out_is_one_trade() -> None:
    (trip,) = round_trips(fills((1, 1, "100"), (-1, 1, "105")))
    assert (trip.direction, trip.points, trip.max_qty, trip.contracts) == (1, Decimal(5), 1, 2)
    assert trip.closed_at == T0 + timedelta(seconds=2) and trip.fill_keys == [1, 2]


def test_adds_and_partial_closes_match_first_in_first_out() -> None:
    # buy 1 @100, add 1 @110, sell 1 @120 (closes the 100 lot: +20), sell 1 @105 (-5)
    (trip,) = round_trips(fills((1, 1, "100"), (1, 1, "110"), (-1, 1, "120"), (-1, 1, "105")))
    assert trip.points == 15 and trip.max_qty == 2
    assert trip.entry_price == Decimal(105) and trip.exit_price == Decimal("112.5")


def test_a_reversal_closes_one_trade_and_opens_the_next() -> None:
    first, second = round_trips(fills((1, 1, "100"), (-1, 3, "90"), (1, 2, "80")))
    assert (first.direction, first.points, first.closed_at is not None) == (1, Decimal(-10), True)
    assert (second.direction, second.points, second.max_qty) == (-1, Decimal(20), 2)
    assert first.fill_keys == [1, 2] and second.fill_keys == [2, 3]


def test_a_trade_not_back_to_flat_is_open() -> None:
    (trip,) = round_trips(fills((-1, 2, "50"), (1, 1, "40")))
    assert trip.is_open and trip.points == 10


def test_a_fill_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        round_trips([FillIn(key=1, at=T0, side=1, qty=0, price=Decimal(1))])


steps = st.lists(
    st.tuples(st.sampled_from([1, -1]), st.integers(1, 5), st.integers(90, 110)),
    min_size=1,
    max_size=30,
)


@given(steps=steps)
def test_the_points_of_all_trades_are_the_cash_flow_when_flat_and_the_rebuild_is_the_same(
    steps: list[tuple[int, int, int]],
) -> None:
    made = fills(*[(s, q, str(p)) for s, q, p in steps])
    net = sum(f.side * f.qty for f in made)
    if net != 0:  # close what is left, so the cash flow is all realized
        side = -1 if net > 0 else 1
        made.append(
            FillIn(key=999, at=T0 + timedelta(hours=1), side=side, qty=abs(net), price=Decimal(100))
        )
    trips = round_trips(made)
    cash = sum(-f.side * f.qty * f.price for f in made)
    assert sum(t.points for t in trips) == cash
    assert all(not t.is_open for t in trips)
    assert sum(t.contracts for t in trips) == sum(f.qty for f in made)
    assert round_trips(list(reversed(made))) == trips  # order of the input does not matter
    for first, nxt in zip(trips, trips[1:], strict=False):
        assert first.closed_at is not None and first.closed_at <= nxt.opened_at
