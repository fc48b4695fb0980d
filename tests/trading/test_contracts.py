"""Contract specs, the symbol parser, the roll rule and the tick-exact price helpers.

The tables here are copied from PROTOCOLS.md "Contracts (CME group)" on purpose: the module's
table is checked against an independent copy, not against itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.contracts import (
    CONTRACT_SPECS,
    ContractSpec,
    ContractSymbol,
    InvalidSymbolError,
    UnknownContractError,
    contract_spec,
    front_month,
    is_on_tick,
    parse_symbol,
    points_to_ticks,
    roll_date,
    round_to_tick,
    ticks_to_price,
    to_decimal,
)

# root: (exchange, tick, $ per point) -- PROTOCOLS.md
PROTOCOL_TABLE: dict[str, tuple[str, Fraction, Decimal]] = {
    "ES": ("CME", Fraction("0.25"), Decimal(50)),
    "MES": ("CME", Fraction("0.25"), Decimal(5)),
    "NQ": ("CME", Fraction("0.25"), Decimal(20)),
    "MNQ": ("CME", Fraction("0.25"), Decimal(2)),
    "YM": ("CBOT", Fraction(1), Decimal(5)),
    "MYM": ("CBOT", Fraction(1), Decimal("0.5")),
    "RTY": ("CME", Fraction("0.1"), Decimal(50)),
    "M2K": ("CME", Fraction("0.1"), Decimal(5)),
    "CL": ("NYMEX", Fraction("0.01"), Decimal(1000)),
    "MCL": ("NYMEX", Fraction("0.01"), Decimal(100)),
    "GC": ("COMEX", Fraction("0.1"), Decimal(100)),
    "MGC": ("COMEX", Fraction("0.1"), Decimal(10)),
    "SI": ("COMEX", Fraction("0.005"), Decimal(5000)),
    "SIL": ("COMEX", Fraction("0.005"), Decimal(1000)),
    "HG": ("COMEX", Fraction("0.0005"), Decimal(25000)),
    "NG": ("NYMEX", Fraction("0.001"), Decimal(10000)),
    "ZB": ("CBOT", Fraction(1, 32), Decimal(1000)),
    "ZN": ("CBOT", Fraction(1, 64), Decimal(1000)),
    "ZF": ("CBOT", Fraction(1, 128), Decimal(1000)),
    "6E": ("CME", Fraction("0.00005"), Decimal(125000)),
    "6J": ("CME", Fraction("0.0000005"), Decimal(12500000)),
}

QUARTERLY = ("ES", "MES", "NQ", "MNQ", "YM", "MYM", "RTY", "M2K", "6E", "6J", "ZB", "ZN", "ZF")
LISTING_CYCLES: dict[str, str] = {
    **dict.fromkeys(QUARTERLY, "HMUZ"),
    **dict.fromkeys(("CL", "MCL", "NG"), "FGHJKMNQUVXZ"),
    **dict.fromkeys(("GC", "MGC"), "GJMQVZ"),
    **dict.fromkeys(("SI", "SIL", "HG"), "HKNUZ"),
}

ROOTS = sorted(PROTOCOL_TABLE)
SPECS = [CONTRACT_SPECS[root] for root in ROOTS]

# A Saturday. Quarterly Z6 rolls Thu 2026-12-10, CLF7 on 2026-12-15, metals' Z6 on Mon 11-30.
TODAY = date(2026, 11, 21)
FRONT_AND_NEXT_ON_TODAY: dict[str, tuple[str, str]] = {
    "HMUZ": ("Z6", "H7"),
    "FGHJKMNQUVXZ": ("F7", "G7"),
    "GJMQVZ": ("Z6", "G7"),
    "HKNUZ": ("Z6", "H7"),
}


def on_tick(price: Decimal, tick: Decimal) -> bool:
    """Independent of the module: exact rational arithmetic."""
    return (Fraction(price) / Fraction(tick)).denominator == 1


# --- the table -------------------------------------------------------------------------------


def test_the_table_holds_exactly_the_protocol_roots() -> None:
    assert sorted(CONTRACT_SPECS) == ROOTS
    assert len(CONTRACT_SPECS) == 21


@pytest.mark.parametrize("root", ROOTS)
def test_every_root_has_the_protocol_tick_value_and_exchange(root: str) -> None:
    exchange, tick, per_point = PROTOCOL_TABLE[root]
    spec = CONTRACT_SPECS[root]
    assert spec.root == root
    assert spec.exchange == exchange
    assert isinstance(spec.tick_size, Decimal)
    assert Fraction(spec.tick_size) == tick  # exact: ZB is 0.03125, not 0.03125000001
    assert spec.value_per_point == per_point
    assert Fraction(spec.tick_value) == tick * Fraction(per_point)
    assert spec.description
    assert spec.months == LISTING_CYCLES[root]


def test_exact_ticks_for_the_fractional_and_tiny_ones() -> None:
    assert CONTRACT_SPECS["ZB"].tick_size == Decimal(1) / 32 == Decimal("0.03125")
    assert CONTRACT_SPECS["ZN"].tick_size == Decimal("0.015625")
    assert CONTRACT_SPECS["ZF"].tick_size == Decimal("0.0078125")
    assert CONTRACT_SPECS["6J"].tick_size == Decimal("0.0000005")
    assert CONTRACT_SPECS["6J"].tick_value == Decimal("6.25")
    assert str(CONTRACT_SPECS["ES"].tick_value) == "12.5"


def test_the_table_cannot_be_changed_at_runtime() -> None:
    with pytest.raises(TypeError):
        CONTRACT_SPECS["XX"] = CONTRACT_SPECS["ES"]  # type: ignore[index]


def test_a_spec_with_a_float_or_non_dividing_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="tick_size must be a positive Decimal"):
        ContractSpec("XX", "x", "CME", 0.25, Decimal(1), "HMUZ", "fx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 / tick_size must be an integer"):
        ContractSpec("XX", "x", "CME", Decimal("0.3"), Decimal(1), "HMUZ", "fx")


def test_contract_spec_looks_up_case_insensitively_and_raises_for_unknown() -> None:
    assert contract_spec(" gc ") is CONTRACT_SPECS["GC"]
    with pytest.raises(UnknownContractError, match="'PL'"):
        contract_spec("PL")


# --- parsing: every root in every form -------------------------------------------------------


def single_contract_forms(root: str, month: str) -> list[str]:
    exchange = PROTOCOL_TABLE[root][0]
    return [
        f"{root}{month}7",
        f"{root}{month}27",
        f"{root}{month}2027",
        f"{root}{month}2027".lower(),
        f"  {root}{month}27 \n",
        f"{exchange}:{root}{month}2027",
        f"CME_MINI:{root}{month}2027",
        f"{exchange.lower()}:{root.lower()}{month.lower()}7",
    ]


@pytest.mark.parametrize("root", ROOTS)
def test_every_root_parses_in_every_single_contract_form(root: str) -> None:
    for month in LISTING_CYCLES[root]:
        for text in single_contract_forms(root, month):
            symbol = parse_symbol(text, today=TODAY)
            assert (symbol.root, symbol.month_code, symbol.year) == (root, month, 2027), text
            assert symbol.spec is CONTRACT_SPECS[root]
            assert symbol.tradovate_name == f"{root}{month}7"
            assert symbol.expiry_month == date(2027, "FGHJKMNQUVXZ".index(month) + 1, 1)


@pytest.mark.parametrize("root", ROOTS)
def test_every_root_parses_as_a_continuous_name(root: str) -> None:
    front, following = FRONT_AND_NEXT_ON_TODAY[LISTING_CYCLES[root]]
    exchange = PROTOCOL_TABLE[root][0]
    for text in (f"{root}1!", f"{exchange}:{root}1!", f" {root.lower()}1! "):
        assert parse_symbol(text, today=TODAY).tradovate_name == root + front, text
    for text in (f"{root}2!", f"CME_MINI:{root}2!"):
        assert parse_symbol(text, today=TODAY).tradovate_name == root + following, text


def test_tradingview_examples_from_the_protocol() -> None:
    assert parse_symbol("CME_MINI:MNQZ2026", today=TODAY).tradovate_name == "MNQZ6"
    assert parse_symbol("CME_MINI:NQ1!", today=TODAY).tradovate_name == "NQZ6"
    assert parse_symbol("MESZ4", today=date(2024, 10, 1)).year == 2024
    assert parse_symbol("ESU24", today=date(2024, 7, 1)).tradovate_name == "ESU4"
    assert parse_symbol("MNQU2025", today=date(2025, 7, 1)).tradovate_name == "MNQU5"


def test_roots_that_start_with_or_contain_a_digit_parse_from_the_right() -> None:
    symbol = parse_symbol("6EU26", today=TODAY)
    assert (symbol.root, symbol.month_code, symbol.year) == ("6E", "U", 2026)
    symbol = parse_symbol("M2KH2027", today=TODAY)
    assert (symbol.root, symbol.month_code, symbol.year) == ("M2K", "H", 2027)
    assert parse_symbol("6J2!", today=TODAY).tradovate_name == "6JH7"


def test_micro_and_full_size_roots_are_not_confused() -> None:
    assert parse_symbol("GCZ6", today=TODAY).root == "GC"
    assert parse_symbol("MGCZ6", today=TODAY).root == "MGC"
    assert parse_symbol("SIZ6", today=TODAY).root == "SI"
    assert parse_symbol("SILZ6", today=TODAY).root == "SIL"
    assert parse_symbol("SILN6", today=TODAY).root == "SIL"


# --- years -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("ESZ5", 2025),  # today.year - 1 is the oldest
        ("ESZ6", 2026),
        ("ESZ4", 2034),  # today.year + 8 is the newest
        ("ESZ25", 2025),
        ("ESZ34", 2034),
        ("ESZ2025", 2025),
        ("ESZ2034", 2034),
    ],
)
def test_short_years_resolve_into_the_ten_year_window(text: str, year: int) -> None:
    assert parse_symbol(text, today=TODAY).year == year


@pytest.mark.parametrize("text", ["ESZ24", "ESZ35", "ESZ2024", "ESZ2035", "ESZ2036"])
def test_years_outside_the_window_are_refused(text: str) -> None:
    with pytest.raises(InvalidSymbolError, match="outside 2025-2034|not a year in 2025-2034"):
        parse_symbol(text, today=TODAY)


def test_without_today_the_current_date_is_used() -> None:
    symbol = parse_symbol("ES1!")
    assert symbol.root == "ES"
    assert symbol.roll_date > date.today() - __import__("datetime").timedelta(days=2)


# --- the roll rule ---------------------------------------------------------------------------


def test_roll_dates_per_family() -> None:
    es, cl, gc = CONTRACT_SPECS["ES"], CONTRACT_SPECS["CL"], CONTRACT_SPECS["GC"]
    # Third Friday of Dec 2026 is the 18th; 8 days before is Thursday the 10th.
    assert roll_date(es, year=2026, month=12) == date(2026, 12, 10)
    # March 2024 starts on a Friday: third Friday the 15th, roll the 7th (ESH4 really rolled then).
    assert roll_date(es, year=2024, month=3) == date(2024, 3, 7)
    assert roll_date(CONTRACT_SPECS["ZN"], year=2027, month=3) == date(2027, 3, 11)
    # Energies: the 15th of the month before, across a year boundary too.
    assert roll_date(cl, year=2027, month=1) == date(2026, 12, 15)
    assert roll_date(cl, year=2027, month=2) == date(2027, 1, 15)
    # Metals: last Monday-Friday of the month before (Jan 2027 ends on a Sunday).
    assert roll_date(gc, year=2026, month=12) == date(2026, 11, 30)
    assert roll_date(gc, year=2027, month=2) == date(2027, 1, 29)


@pytest.mark.parametrize(
    ("root", "today", "front", "following"),
    [
        # quarterly financial (equity index): ESZ6 rolls 2026-12-10
        ("ES", date(2026, 12, 9), "ESZ6", "ESH7"),
        ("ES", date(2026, 12, 10), "ESH7", "ESM7"),
        ("ES", date(2026, 12, 11), "ESH7", "ESM7"),
        # FX and rates use the same rule
        ("6E", date(2026, 12, 9), "6EZ6", "6EH7"),
        ("6E", date(2026, 12, 10), "6EH7", "6EM7"),
        ("ZN", date(2027, 3, 10), "ZNH7", "ZNM7"),
        ("ZN", date(2027, 3, 11), "ZNM7", "ZNU7"),
        ("ZN", date(2027, 3, 12), "ZNM7", "ZNU7"),
        # energy: CLF7 rolls 2026-12-15
        ("CL", date(2026, 12, 14), "CLF7", "CLG7"),
        ("CL", date(2026, 12, 15), "CLG7", "CLH7"),
        ("CL", date(2026, 12, 16), "CLG7", "CLH7"),
        ("NG", date(2026, 12, 31), "NGG7", "NGH7"),
        # metal: GCZ6 rolls Monday 2026-11-30; GCG7 rolls Friday 2027-01-29
        ("GC", date(2026, 11, 29), "GCZ6", "GCG7"),
        ("GC", date(2026, 11, 30), "GCG7", "GCJ7"),
        ("GC", date(2026, 12, 1), "GCG7", "GCJ7"),
        ("GC", date(2027, 1, 28), "GCG7", "GCJ7"),
        ("GC", date(2027, 1, 29), "GCJ7", "GCM7"),
        ("GC", date(2027, 1, 30), "GCJ7", "GCM7"),
        ("HG", date(2026, 11, 30), "HGH7", "HGK7"),
    ],
)
def test_continuous_names_roll_on_the_roll_date(
    root: str, today: date, front: str, following: str
) -> None:
    assert parse_symbol(f"{root}1!", today=today).tradovate_name == front
    assert parse_symbol(f"{root}2!", today=today).tradovate_name == following
    assert front_month(CONTRACT_SPECS[root], today=today).tradovate_name == front


def test_the_front_month_is_the_first_listed_contract_rolling_after_today() -> None:
    for spec in SPECS:
        day = date(2026, 1, 1)
        while day < date(2028, 1, 1):
            front = front_month(spec, today=day)
            assert front.roll_date > day
            assert front.month_code in spec.months
            following = front_month(spec, today=day, nth=2)
            assert following.expiry_month > front.expiry_month
            day = day.fromordinal(day.toordinal() + 5)


# --- errors ----------------------------------------------------------------------------------


def test_unknown_root_names_what_was_given_and_lists_the_supported_roots() -> None:
    with pytest.raises(UnknownContractError) as error:
        parse_symbol("XYZZ6", today=TODAY)
    assert str(error.value) == (
        "Unknown contract root 'XYZ' in 'XYZZ6'; supported: 6E, 6J, CL, ES, GC, HG, M2K, MCL, "
        "MES, MGC, MNQ, MYM, NG, NQ, RTY, SI, SIL, YM, ZB, ZF, ZN"
    )
    assert isinstance(error.value, ValueError)
    assert error.value.root == "XYZ"


@pytest.mark.parametrize(
    ("text", "root"),
    [("PLF7", "PL"), ("NYMEX:HOZ2026", "HO"), ("zcz6", "ZC"), ("6BZ6", "6B"), ("PL1!", "PL")],
)
def test_unknown_roots_raise_in_every_form(text: str, root: str) -> None:
    with pytest.raises(UnknownContractError, match=f"Unknown contract root '{root}' in "):
        parse_symbol(text, today=TODAY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No symbol"),
        ("   ", "No symbol"),
        ("CME_MINI:", "No symbol"),
        ("ESZ", "No year in 'ESZ'"),
        ("ES", "No year"),
        ("ESA6", "'A' is not one of F G H J K M N Q U V X Z"),
        ("GC6", "'C' is not one of"),
        ("Z6", "No contract root in 'Z6'"),
        ("2026", "No root or month code"),
        ("ESZ123", "must have 1, 2 or 4 digits"),
        ("ESZ20266", "must have 1, 2 or 4 digits"),
        ("ES Z6", "letters and digits"),
        ("ES-Z6", "letters and digits"),
        ("NQ!", "must be a root and a number"),
        ("1!", "must be a root and a number"),
        ("NQ0!", "starts at 1"),
        ("ESF6", "ES has no Jan contract: month code 'F' is not in its listing cycle"),
        ("GCH7", "GC is listed in G (Feb), J (Apr), M (Jun), Q (Aug), V (Oct), Z (Dec)"),
        ("HGF7", "HG has no Jan contract"),
    ],
)
def test_malformed_symbols_raise_invalid_symbol(text: str, message: str) -> None:
    with pytest.raises(InvalidSymbolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_symbol(text, today=TODAY)


def test_a_non_string_symbol_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_symbol(None, today=TODAY)  # type: ignore[arg-type]


def test_a_contract_symbol_cannot_be_built_for_an_unlisted_month() -> None:
    with pytest.raises(InvalidSymbolError, match="ES has no Jan contract"):
        ContractSymbol("ES", "F", 2027, CONTRACT_SPECS["ES"])
    with pytest.raises(ValueError, match="does not belong"):
        ContractSymbol("ES", "Z", 2027, CONTRACT_SPECS["NQ"])


# --- Decimal helpers -------------------------------------------------------------------------


def test_round_to_tick_examples() -> None:
    es, zb, ym, six_j = (CONTRACT_SPECS[r] for r in ("ES", "ZB", "YM", "6J"))
    assert str(round_to_tick(Decimal("5001.125"), es)) == "5001.25"  # tie: half up
    assert str(round_to_tick(Decimal("5001.1249"), es)) == "5001.00"
    assert str(round_to_tick(Decimal("-0.125"), es)) == "-0.25"  # ties away from zero
    assert str(round_to_tick(Decimal("5001.01"), es, direction="up")) == "5001.25"
    assert str(round_to_tick(Decimal("5001.24"), es, direction="down")) == "5001.00"
    assert str(round_to_tick(Decimal("118.02"), zb)) == "118.03125"
    assert str(round_to_tick(Decimal("40000.5"), ym)) == "40001"
    assert str(round_to_tick(Decimal("0.00665012"), six_j)) == "0.0066500"
    assert str(round_to_tick(Decimal("4E+4"), ym)) == "40000"
    assert str(round_to_tick(Decimal("-37.634"), CONTRACT_SPECS["CL"])) == "-37.63"  # April 2020


def test_round_to_tick_refuses_a_bad_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        round_to_tick(Decimal(1), CONTRACT_SPECS["ES"], direction="sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: round_to_tick(5001.25, CONTRACT_SPECS["ES"]),  # type: ignore[arg-type]
        lambda: is_on_tick(5001.25, CONTRACT_SPECS["ES"]),  # type: ignore[arg-type]
        lambda: ticks_to_price(10.0, CONTRACT_SPECS["ES"]),  # type: ignore[arg-type]
        lambda: points_to_ticks(2.5, CONTRACT_SPECS["ES"]),  # type: ignore[arg-type]
        lambda: to_decimal(5001.25),  # type: ignore[arg-type]
    ],
)
def test_floats_are_refused_everywhere(call: object) -> None:
    with pytest.raises(TypeError, match="float"):
        call()  # type: ignore[operator]


def test_other_non_decimals_are_refused() -> None:
    es = CONTRACT_SPECS["ES"]
    with pytest.raises(TypeError, match="must be a Decimal"):
        round_to_tick("5001.25", es)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ticks_to_price(True, es)
    with pytest.raises(TypeError):
        to_decimal(True)
    with pytest.raises(TypeError):
        to_decimal(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)
    with pytest.raises(ValueError):
        to_decimal(Decimal(bad))
    with pytest.raises(ValueError):
        round_to_tick(Decimal(bad), CONTRACT_SPECS["ES"])
    with pytest.raises(ValueError):
        is_on_tick(Decimal(bad), CONTRACT_SPECS["ES"])


def test_absurdly_large_prices_are_refused_cheaply() -> None:
    with pytest.raises(ValueError, match="too large"):
        round_to_tick(Decimal("1E+999999999"), CONTRACT_SPECS["ES"])


def test_to_decimal() -> None:
    assert to_decimal(" 5001.25 ") == Decimal("5001.25")
    assert to_decimal(7) == Decimal(7)
    assert to_decimal(Decimal("0.1")) == Decimal("0.1")
    with pytest.raises(ValueError, match="Not a number"):
        to_decimal("5001,25")


def test_ticks_and_points() -> None:
    es, gc, zb = CONTRACT_SPECS["ES"], CONTRACT_SPECS["GC"], CONTRACT_SPECS["ZB"]
    assert str(ticks_to_price(10, es)) == "2.50"
    assert str(ticks_to_price(10, gc)) == "1.0"
    assert str(ticks_to_price(Decimal(-3), zb)) == "-0.09375"
    assert str(ticks_to_price(Decimal("4.0"), es)) == "1.00"
    with pytest.raises(ValueError, match="whole number"):
        ticks_to_price(Decimal("2.5"), es)
    assert points_to_ticks(Decimal("1.1"), es) == Decimal("4.4")
    assert str(points_to_ticks(Decimal("2.50"), es)) == "10"
    assert points_to_ticks(Decimal("1"), zb) == 32
    assert points_to_ticks(Decimal("0.0000025"), CONTRACT_SPECS["6J"]) == 5


def test_is_on_tick_examples() -> None:
    zb = CONTRACT_SPECS["ZB"]
    assert is_on_tick(Decimal("118.03125"), zb)
    assert not is_on_tick(Decimal("118.03"), zb)
    assert is_on_tick(Decimal("-0.25"), CONTRACT_SPECS["ES"])
    assert not is_on_tick(Decimal("0.0000001"), CONTRACT_SPECS["6J"])


# --- properties ------------------------------------------------------------------------------


@st.composite
def priced_contracts(draw: st.DrawFn) -> tuple[ContractSpec, Decimal]:
    """A contract and a price: a whole number of its ticks plus a random fraction of one."""
    spec = draw(st.sampled_from(SPECS))
    whole = draw(
        st.one_of(st.integers(-1_000, 1_000), st.integers(-(10**12), 10**12)),
    )
    fraction = draw(
        st.one_of(
            st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("0.4999999999")]),
            st.builds(
                lambda digits, places: Decimal(digits).scaleb(-places),
                st.integers(0, 10**20 - 1),
                st.just(20),
            ),
            st.decimals(min_value=0, max_value=1, places=3).filter(lambda d: d < 1),
        )
    )
    with localcontext(prec=100):
        price = (Decimal(whole) + fraction) * spec.tick_size
    return spec, price


@settings(max_examples=400, deadline=None)
@given(priced_contracts())
def test_round_to_tick_properties(case: tuple[ContractSpec, Decimal]) -> None:
    spec, price = case
    nearest = round_to_tick(price, spec)
    up = round_to_tick(price, spec, direction="up")
    down = round_to_tick(price, spec, direction="down")
    for result in (nearest, up, down):
        assert on_tick(result, spec.tick_size)
        assert is_on_tick(result, spec)
        assert round_to_tick(result, spec) == result  # idempotent
        assert round_to_tick(result, spec, direction="up") == result
        assert round_to_tick(result, spec, direction="down") == result
        # str() is plain except below 1e-6 (Decimal's own rule: 6J's 0 is '0E-7'); f-format is.
        assert "E" not in str(result) or abs(result) < Decimal("0.000001")
        assert "E" not in f"{result:f}"
        assert result.as_tuple().exponent == spec.tick_size.as_tuple().exponent
    assert abs(Fraction(nearest) - Fraction(price)) <= Fraction(spec.tick_size) / 2
    exact_price, tick = Fraction(price), Fraction(spec.tick_size)
    assert exact_price <= Fraction(up) < exact_price + tick
    assert exact_price - tick < Fraction(down) <= exact_price
    assert is_on_tick(price, spec) == on_tick(price, spec.tick_size) == (nearest == price)
    assert (up == down) == is_on_tick(price, spec)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SPECS), st.integers(-(10**9), 10**9))
def test_ticks_and_points_round_trip(spec: ContractSpec, ticks: int) -> None:
    distance = ticks_to_price(ticks, spec)
    assert on_tick(distance, spec.tick_size)
    assert points_to_ticks(distance, spec) == ticks
