"""D20 -- GC TPs 2.5x too far: 2-letter root missing from tick table.

DISASTERS.md row D20:
    what happened: "GC TPs 2.5x too far: 2-letter root missing from tick table"
    invariant:     "symbols parse to a known contract (root + month + year); an unknown root is
                   rejected, never a default tick"
    proof:         "test over every supported root"

GC's tick is 0.1; the default that was used instead was 0.25 (an index tick), so a 10-tick
take-profit landed 2.5 points away instead of 1.0. These tests fail if any supported root
resolves to another tick, or if an unknown root resolves to anything at all.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from trading.contracts import (
    CONTRACT_SPECS,
    UnknownContractError,
    contract_spec,
    parse_symbol,
    ticks_to_price,
)

TODAY = date(2026, 11, 21)

# PROTOCOLS.md "Contracts (CME group)": root -> tick, copied independently of the module.
PROTOCOL_TICKS = {
    "ES": "0.25", "MES": "0.25", "NQ": "0.25", "MNQ": "0.25", "YM": "1", "MYM": "1",
    "RTY": "0.1", "M2K": "0.1", "CL": "0.01", "MCL": "0.01", "GC": "0.1", "MGC": "0.1",
    "SI": "0.005", "SIL": "0.005", "HG": "0.0005", "NG": "0.001", "ZB": "0.03125",
    "ZN": "0.015625", "ZF": "0.0078125", "6E": "0.00005", "6J": "0.0000005",
}  # fmt: skip


def test_gc_take_profit_of_ten_ticks_is_one_point_not_two_and_a_half() -> None:
    gc = parse_symbol("COMEX:GCZ2026", today=TODAY).spec
    assert gc.root == "GC"
    assert gc.tick_size == Decimal("0.1")
    assert ticks_to_price(10, gc) == Decimal("1.0")
    assert ticks_to_price(10, gc) != Decimal("2.5")
    assert gc.tick_value == Decimal(10)  # $10 a tick, $100 a point


@pytest.mark.parametrize("root", sorted(PROTOCOL_TICKS))
def test_every_supported_root_resolves_to_its_own_tick_in_every_form(root: str) -> None:
    assert sorted(CONTRACT_SPECS) == sorted(PROTOCOL_TICKS)
    month = CONTRACT_SPECS[root].months[0]
    for text in (f"{root}{month}7", f"{root}{month}27", f"x:{root}{month}2027", f"{root}1!"):
        symbol = parse_symbol(text, today=TODAY)
        assert symbol.root == root, text
        assert symbol.spec.tick_size == Decimal(PROTOCOL_TICKS[root]), text
        assert ticks_to_price(10, symbol.spec) == 10 * Decimal(PROTOCOL_TICKS[root])


@pytest.mark.parametrize("two_letter", ["GC", "SI", "HG", "NG", "CL", "ES", "NQ", "YM", "ZB"])
def test_two_letter_roots_are_found_and_not_mistaken_for_three_letter_ones(two_letter: str) -> None:
    month = CONTRACT_SPECS[two_letter].months[-1]
    symbol = parse_symbol(f"{two_letter}{month}6", today=TODAY)
    assert symbol.root == two_letter
    assert symbol.spec is CONTRACT_SPECS[two_letter]


@pytest.mark.parametrize(
    "text",
    [
        "PLF7",
        "PAZ6",
        "HOZ6",
        "RBZ6",
        "ZCZ6",
        "ZSF7",
        "KCZ6",
        "6BZ6",
        "NYMEX:PLF2027",
        "PL1!",
        "pl2!",
    ],
)
def test_an_unknown_two_letter_root_is_rejected(text: str) -> None:
    with pytest.raises(UnknownContractError, match="Unknown contract root '[0-9A-Z]{2}' in "):
        parse_symbol(text, today=TODAY)


def test_an_unknown_root_is_never_given_a_default_spec() -> None:
    with pytest.raises(UnknownContractError) as error:
        contract_spec("PL")
    assert "supported: 6E, 6J, CL, ES, GC," in str(error.value)
    assert "PL" not in CONTRACT_SPECS
    with pytest.raises(TypeError):
        CONTRACT_SPECS["PL"] = CONTRACT_SPECS["GC"]  # type: ignore[index]
