"""`stop_adjustment`: break-even and trailing as a pure function (ENGINE.md, "Break-even and
trailing"). Table tests of the rules, then properties over every contract kind: a stop never
loosens, is always on the tick, never goes through the price, and asking twice moves it once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.contracts import CONTRACT_SPECS, ContractSpec, is_on_tick
from trading.engine_stops import stop_adjustment
from trading.settings_resolution import BreakEven, Trailing

ES = CONTRACT_SPECS["ES"]  # tick 0.25
D = Decimal


def adjust(
    *,
    long: bool = True,
    entry: str = "5000",
    stop: str | None = None,
    last: str,
    initial: str | None = None,
    break_even: BreakEven | None = None,
    trailing: Trailing | None = None,
    spec: ContractSpec = ES,
) -> Decimal | None:
    default_stop = "4997.50" if long else "5002.50"  # 10 ticks away
    initial = initial or stop or default_stop
    return stop_adjustment(
        side_long=long,
        net_price=D(entry),
        current_stop=D(stop or initial),
        last_price=D(last),
        initial_stop=D(initial),
        break_even=break_even,
        trailing=trailing,
        spec=spec,
    )


@pytest.mark.parametrize(
    ("long", "last", "break_even", "expected"),
    [
        # long, trigger 8 ticks (2.00), offset 1 tick
        (True, "5001.75", BreakEven(8, 1), None),  # 7 ticks: not yet
        (True, "5002.00", BreakEven(8, 1), "5000.25"),  # 8 ticks: entry + 1 tick
        (True, "5010.00", BreakEven(8, 1), "5000.25"),  # far beyond: still entry + offset
        (True, "5002.00", BreakEven(8, 0), "5000.00"),  # offset 0: the entry
        (True, "5002.00", BreakEven(8, -2), "4999.50"),  # negative offset: short of entry
        (True, "5001.00", BreakEven(4, 8), "5000.75"),  # offset past the price: 1 tick below it
        (True, "4990.00", BreakEven(0, 0), None),  # trigger 0 but losing: nothing
        # short, mirrored
        (False, "4998.25", BreakEven(8, 1), None),
        (False, "4998.00", BreakEven(8, 1), "4999.75"),
        (False, "4998.00", BreakEven(8, -2), "5000.50"),
    ],
)
def test_break_even_table(
    long: bool, last: str, break_even: BreakEven, expected: str | None
) -> None:
    result = adjust(long=long, last=last, break_even=break_even)
    assert result == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("long", "last", "trailing", "expected"),
    [
        # long, initial stop 4997.50 (10 ticks), trigger 8 ticks, step 4 ticks (1.00)
        (True, "5001.75", Trailing(8, 4), None),  # below the trigger
        (True, "5002.00", Trailing(8, 4), "4999.50"),  # 8 ticks = 2 steps up
        (True, "5002.75", Trailing(8, 4), "4999.50"),  # 11 ticks: still 2 whole steps
        (True, "5003.00", Trailing(8, 4), "5000.50"),  # 12 ticks: 3 steps
        (True, "5003.00", Trailing(8, 0), "5000.50"),  # step 0 = every tick
        (True, "5003.25", Trailing(8, 0), "5000.75"),
        # short, initial stop 5002.50
        (False, "4998.25", Trailing(8, 4), None),
        (False, "4998.00", Trailing(8, 4), "5000.50"),
        (False, "4997.00", Trailing(8, 4), "4999.50"),
    ],
)
def test_trailing_table(long: bool, last: str, trailing: Trailing, expected: str | None) -> None:
    result = adjust(long=long, last=last, trailing=trailing)
    assert result == (None if expected is None else D(expected))


def test_trailing_counts_from_the_initial_stop_not_the_current_one() -> None:
    # The stop already trailed to 4999.50; the price is 3 steps up: 5000.50, not 5001.50.
    assert adjust(stop="4999.50", initial="4997.50", last="5003.00", trailing=Trailing(8, 4)) == D(
        "5000.50"
    )


def test_a_falling_price_never_moves_the_trailed_stop_back() -> None:
    assert (
        adjust(stop="5000.50", initial="4997.50", last="5002.00", trailing=Trailing(8, 4)) is None
    )


def test_both_set_take_the_tighter() -> None:
    be, trail = BreakEven(8, 1), Trailing(8, 4)
    # BE 5000.25 beats trailing 4999.50; then trailing 5002.50 beats BE 5000.25
    assert adjust(last="5002.00", break_even=be, trailing=trail) == D("5000.25")
    assert adjust(last="5005.00", break_even=be, trailing=trail) == D("5002.50")
    assert adjust(long=False, last="4995.00", break_even=be, trailing=trail) == D("4997.50")


def test_an_average_price_between_ticks_rounds_the_stop_away_from_the_favour() -> None:
    assert adjust(entry="5000.10", last="5002.50", break_even=BreakEven(8, 0)) == D("5000.00")
    assert adjust(long=False, entry="4999.90", last="4997.50", break_even=BreakEven(8, 0)) == D(
        "5000.00"
    )


def test_a_stop_already_tighter_is_left_alone() -> None:
    assert (
        adjust(stop="5001.00", initial="4997.50", last="5002.00", break_even=BreakEven(8, 1))
        is None
    )


def test_nothing_set_moves_nothing() -> None:
    assert adjust(last="5100") is None


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        stop_adjustment(
            side_long=True,
            net_price=5000.0,  # type: ignore[arg-type]
            current_stop=D("4997.5"),
            last_price=D("5002"),
            initial_stop=D("4997.5"),
            break_even=BreakEven(8, 1),
            trailing=None,
            spec=ES,
        )


# --- properties ----------------------------------------------------------------------------

SPECS = [CONTRACT_SPECS[root] for root in ("ES", "YM", "GC", "ZB", "ZN", "6J", "NG", "CL")]


@st.composite
def situations(draw: st.DrawFn) -> dict[str, object]:
    spec = draw(st.sampled_from(SPECS))
    tick = spec.tick_size
    long = draw(st.booleans())
    sign = 1 if long else -1
    base = 2000 * tick * draw(st.integers(1, 50))  # far from 0 in ticks
    # The broker's average is often between ticks (after a DCA add).
    entry = base + tick * D(draw(st.integers(-40, 40))) / D(draw(st.sampled_from([1, 3, 7])))
    initial = base - sign * tick * draw(st.integers(0, 40))
    current = initial + sign * tick * draw(st.integers(0, 60))
    last = base + tick * draw(st.integers(-80, 80))
    break_even = draw(st.none() | st.builds(BreakEven, st.integers(0, 30), st.integers(-10, 30)))
    trailing = draw(st.none() | st.builds(Trailing, st.integers(0, 30), st.integers(0, 12)))
    return {
        "side_long": long,
        "net_price": entry,
        "current_stop": current,
        "last_price": last,
        "initial_stop": initial,
        "break_even": break_even,
        "trailing": trailing,
        "spec": spec,
    }


@settings(max_examples=600, deadline=None)
@given(situations())
def test_properties_never_loosens_on_tick_never_through_the_price_idempotent(
    case: dict[str, object],
) -> None:
    result = stop_adjustment(**case)  # type: ignore[arg-type]
    if result is None:
        return
    spec = case["spec"]
    assert isinstance(spec, ContractSpec)
    long, current, last = case["side_long"], case["current_stop"], case["last_price"]
    assert isinstance(current, Decimal) and isinstance(last, Decimal)
    assert is_on_tick(result, spec) and result > 0
    if long:
        assert result > current  # tighter, never looser
        assert result <= last - spec.tick_size  # at least a tick below the price
    else:
        assert result < current
        assert result >= last + spec.tick_size
    assert stop_adjustment(**{**case, "current_stop": result}) is None  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(situations(), st.lists(st.integers(-8, 8), min_size=1, max_size=30))
def test_properties_a_price_path_only_ever_tightens_the_stop(
    case: dict[str, object], moves: list[int]
) -> None:
    spec = case["spec"]
    assert isinstance(spec, ContractSpec)
    long = case["side_long"]
    stop = case["current_stop"]
    last = case["last_price"]
    assert isinstance(stop, Decimal) and isinstance(last, Decimal)
    for move in moves:
        last = last + move * spec.tick_size
        if last <= 0 or (long and last <= stop) or (not long and last >= stop):
            break  # the stop would have filled: the position is gone
        moved = stop_adjustment(**{**case, "current_stop": stop, "last_price": last})  # type: ignore[arg-type]
        if moved is not None:
            assert (moved > stop) if long else (moved < stop)
            stop = moved
