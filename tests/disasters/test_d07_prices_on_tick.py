"""D07 -- TP rejected: fractional price on DCA.

DISASTERS.md row D07:
    what happened: "TP rejected: fractional price on DCA"
    invariant:     "every price sent to a broker is a multiple of the contract's tick (Decimal
                   math)"
    proof:         "property test"

After a DCA add the average entry is a division (5001.1666... for MES), and a take-profit
computed from it was off-tick and rejected. Every price goes through `round_to_tick`, which
returns an exact tick multiple, and floats are refused so binary rounding cannot creep in.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.contracts import (
    CONTRACT_SPECS,
    ContractSpec,
    RoundingDirection,
    is_on_tick,
    round_to_tick,
    ticks_to_price,
    to_decimal,
)


def on_tick(price: Decimal, spec: ContractSpec) -> bool:
    """Checked with exact fractions, independently of the module."""
    return (Fraction(price) / Fraction(spec.tick_size)).denominator == 1


def dca_average(fills: list[Decimal]) -> Decimal:
    return sum(fills, Decimal(0)) / len(fills)


def test_a_mes_dca_average_rounds_onto_the_tick() -> None:
    mes = CONTRACT_SPECS["MES"]
    average = dca_average([Decimal("5000.00"), Decimal("5001.25"), Decimal("5002.25")])
    assert average == Decimal("5001.166666666666666666666667")
    assert not is_on_tick(average, mes)
    entry = round_to_tick(average, mes)
    assert entry == Decimal("5001.25")
    assert str(entry) == "5001.25"
    take_profit = entry + ticks_to_price(20, mes)
    assert str(take_profit) == "5006.25"
    assert on_tick(take_profit, mes)


def test_a_zb_dca_average_rounds_onto_a_thirty_second() -> None:
    zb = CONTRACT_SPECS["ZB"]
    average = dca_average([Decimal("118.03125"), Decimal("118.0625"), Decimal("118.125")])
    assert not on_tick(average, zb)
    directions: tuple[RoundingDirection, ...] = ("nearest", "up", "down")
    for direction in directions:
        price = round_to_tick(average, zb, direction=direction)
        assert on_tick(price, zb), direction
        assert Fraction(price) * 32 == int(Fraction(price) * 32)
    assert round_to_tick(average, zb) == Decimal("118.06250")


def test_a_float_average_is_refused() -> None:
    mes = CONTRACT_SPECS["MES"]
    with pytest.raises(TypeError, match="float"):
        round_to_tick(15003.5 / 3, mes)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        to_decimal(5001.1666)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        ticks_to_price(20.0, mes)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    spec=st.sampled_from(list(CONTRACT_SPECS.values())),
    fill_ticks=st.lists(st.integers(1, 4_000_000), min_size=2, max_size=6),
    take_profit_ticks=st.integers(1, 400),
    direction=st.sampled_from(["nearest", "up", "down"]),
)
def test_any_dca_average_and_its_take_profit_are_on_tick(
    spec: ContractSpec,
    fill_ticks: list[int],
    take_profit_ticks: int,
    direction: RoundingDirection,
) -> None:
    with localcontext(prec=60):
        fills = [n * spec.tick_size for n in fill_ticks]
        average = dca_average(fills)
    entry = round_to_tick(average, spec, direction=direction)
    assert on_tick(entry, spec)
    assert abs(Fraction(entry) - Fraction(average)) < Fraction(spec.tick_size)
    for take_profit in (entry + ticks_to_price(take_profit_ticks, spec),
                        entry - ticks_to_price(take_profit_ticks, spec)):  # fmt: skip
        assert on_tick(take_profit, spec)
        assert is_on_tick(take_profit, spec)
