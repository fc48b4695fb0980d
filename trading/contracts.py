"""Contract specifications, the symbol parser and tick-exact Decimal price helpers.

Pure Python: no ORM, no I/O. Two past disasters shape this module:

- D20 (take-profits 2.5x too far on GC: a 2-letter root was missing from the tick table and a
  default tick was used). A symbol parses to a *known* contract -- root + month + year -- or it
  raises. There is no default tick anywhere: an unknown root raises `UnknownContractError`.
- D07 (take-profit rejected: fractional price after DCA). Every price handed to a broker goes
  through `round_to_tick`, which returns exactly ``n * tick_size`` for an integer ``n``. All the
  arithmetic is exact `Decimal` arithmetic; floats are refused with `TypeError`.

Symbols
-------
`parse_symbol` accepts, case-insensitively and with surrounding spaces ignored:

- single contracts ``MESZ6``, ``MESZ26``, ``MESZ2026`` (1, 2 or 4 year digits);
- TradingView continuous names ``NQ1!`` (front month), ``NQ2!`` (the next one), ``NQn!``;
- either of those behind an exchange prefix as TradingView sends it: ``CME_MINI:MNQZ2026``.

It parses from the right -- year digits, then exactly one month code, then the root, which is
looked up in `CONTRACT_SPECS` -- because roots may contain or start with a digit (``6E``,
``M2K``). The month must be in the root's listing cycle (``ESF6`` is rejected: ES is listed in
H M U Z only).

Years. A 1- or 2-digit year resolves to the one year in the window
``[today.year - 1, today.year + 8]`` that ends in those digits (10 years, so a 1-digit year
always resolves; a 2-digit one outside the window is rejected). A 4-digit year must lie in the
same window: Tradovate names carry only the last digit of the year (``MESZ6``), so a year
outside a 10-year window would alias another contract.

Roll rule (continuous names)
----------------------------
Every listed contract month has a roll date; the front month (``1!``) on ``today`` is the first
listed contract whose roll date is strictly *after* ``today`` -- on the roll date itself the
front month is already the next contract. ``2!`` is the listed contract after that one, etc.

- Quarterly financials (equity index ES MES NQ MNQ YM MYM RTY M2K, FX 6E 6J, rates ZB ZN ZF):
  8 calendar days before the third Friday of the contract month.
- Energies (CL MCL NG): the 15th of the month before the contract month.
- Metals (GC MGC SI SIL HG): the last business day (Monday-Friday; exchange holidays are not
  considered) of the month before the contract month.

When ``today`` is not given, it is the current date in Chicago (the CME's time zone).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "CONTRACT_SPECS",
    "MONTH_CODES",
    "ContractSpec",
    "ContractSymbol",
    "InvalidSymbolError",
    "RoundingDirection",
    "UnknownContractError",
    "contract_spec",
    "front_month",
    "is_on_tick",
    "parse_symbol",
    "points_to_ticks",
    "roll_date",
    "round_to_tick",
    "ticks_to_price",
    "to_decimal",
]

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Family = Literal["equity_index", "fx", "rates", "energy", "metal"]
RoundingDirection = Literal["nearest", "up", "down"]

_EXCHANGE_TZ = ZoneInfo("America/Chicago")
# Years accepted relative to today: [today.year - 1, today.year + 8] (10 years, see docstring).
_YEARS_BACK = 1
_YEARS_AHEAD = 8
# No price or tick count this large is real; refusing it keeps a hostile "1E+999999999" in a
# payload from making exact arithmetic allocate a billion digits.
_MAX_ADJUSTED_EXPONENT = 17

# Exact arithmetic: every operation used here (multiply, to_integral, quantize) is exact at this
# precision, and Inexact is trapped so a rounding we did not ask for can never go unnoticed.
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)


class UnknownContractError(ValueError):
    """The root is not in `CONTRACT_SPECS`. Never answered with a default tick (D20)."""

    def __init__(self, root: str, text: str | None = None) -> None:
        self.root = root
        self.text = text
        where = f" in {text!r}" if text is not None and text != root else ""
        supported = ", ".join(sorted(CONTRACT_SPECS))
        super().__init__(f"Unknown contract root {root!r}{where}; supported: {supported}")


class InvalidSymbolError(ValueError):
    """The text is not shaped like a contract symbol (or names a month that is not listed)."""


@dataclass(frozen=True)
class ContractSpec:
    """One futures product: its tick, its dollar value and the months it is listed in."""

    root: str
    description: str
    exchange: str
    tick_size: Decimal
    value_per_point: Decimal
    months: str  # listing cycle as month codes in calendar order, e.g. "HMUZ"
    family: Family

    def __post_init__(self) -> None:
        for name in ("tick_size", "value_per_point"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"{self.root}: {name} must be a positive Decimal, got {value!r}")
        # Every tick used here divides one point a whole number of times; that is what makes
        # price <-> tick conversions exact multiplications (no division anywhere).
        if (1 / Fraction(self.tick_size)).denominator != 1:
            raise ValueError(f"{self.root}: 1 / tick_size must be an integer")
        if not self.months or any(m not in MONTH_CODES for m in self.months):
            raise ValueError(f"{self.root}: months must be month codes, got {self.months!r}")
        if "".join(sorted(set(self.months), key=MONTH_CODES.index)) != self.months:
            raise ValueError(f"{self.root}: months must be unique and in calendar order")

    @property
    def tick_value(self) -> Decimal:
        """Dollars per tick per contract (ES: 0.25 x 50 = 12.5; 6J: 0.0000005 x 12,500,000 = 6.25)."""
        return _plain(_EXACT.multiply(self.tick_size, self.value_per_point))

    @property
    def ticks_per_point(self) -> int:
        return int(1 / Fraction(self.tick_size))


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent notation (12.50 -> 12.5, 1E+3 -> 1000)."""
    if value == value.to_integral_value(context=_EXACT):
        return _EXACT.quantize(value, Decimal(1))
    return value.normalize(context=_EXACT)


def _spec(
    root: str,
    description: str,
    exchange: str,
    tick: Decimal | str,
    per_point: str,
    months: str,
    family: Family,
) -> ContractSpec:
    return ContractSpec(
        root=root,
        description=description,
        exchange=exchange,
        tick_size=Decimal(tick),
        value_per_point=Decimal(per_point),
        months=months,
        family=family,
    )


_QUARTERLY = "HMUZ"
_ALL_MONTHS = MONTH_CODES
_GOLD = "GJMQVZ"
_SILVER_COPPER = "HKNUZ"

CONTRACT_SPECS: Mapping[str, ContractSpec] = MappingProxyType(
    {
        spec.root: spec
        for spec in (
            _spec("ES", "E-mini S&P 500", "CME", "0.25", "50", _QUARTERLY, "equity_index"),
            _spec("MES", "Micro E-mini S&P 500", "CME", "0.25", "5", _QUARTERLY, "equity_index"),
            _spec("NQ", "E-mini Nasdaq-100", "CME", "0.25", "20", _QUARTERLY, "equity_index"),
            _spec("MNQ", "Micro E-mini Nasdaq-100", "CME", "0.25", "2", _QUARTERLY, "equity_index"),
            _spec("YM", "E-mini Dow ($5)", "CBOT", "1", "5", _QUARTERLY, "equity_index"),
            _spec("MYM", "Micro E-mini Dow", "CBOT", "1", "0.5", _QUARTERLY, "equity_index"),
            _spec("RTY", "E-mini Russell 2000", "CME", "0.1", "50", _QUARTERLY, "equity_index"),
            _spec(
                "M2K", "Micro E-mini Russell 2000", "CME", "0.1", "5", _QUARTERLY, "equity_index"
            ),
            _spec("CL", "Crude Oil (WTI)", "NYMEX", "0.01", "1000", _ALL_MONTHS, "energy"),
            _spec("MCL", "Micro WTI Crude Oil", "NYMEX", "0.01", "100", _ALL_MONTHS, "energy"),
            _spec("NG", "Henry Hub Natural Gas", "NYMEX", "0.001", "10000", _ALL_MONTHS, "energy"),
            _spec("GC", "Gold", "COMEX", "0.1", "100", _GOLD, "metal"),
            _spec("MGC", "Micro Gold", "COMEX", "0.1", "10", _GOLD, "metal"),
            _spec("SI", "Silver", "COMEX", "0.005", "5000", _SILVER_COPPER, "metal"),
            _spec("SIL", "Micro Silver", "COMEX", "0.005", "1000", _SILVER_COPPER, "metal"),
            _spec("HG", "Copper", "COMEX", "0.0005", "25000", _SILVER_COPPER, "metal"),
            _spec("ZB", "U.S. Treasury Bond", "CBOT", Decimal(1) / 32, "1000", _QUARTERLY, "rates"),
            _spec("ZN", "10-Year T-Note", "CBOT", Decimal(1) / 64, "1000", _QUARTERLY, "rates"),
            _spec("ZF", "5-Year T-Note", "CBOT", Decimal(1) / 128, "1000", _QUARTERLY, "rates"),
            _spec("6E", "Euro FX", "CME", "0.00005", "125000", _QUARTERLY, "fx"),
            _spec("6J", "Japanese Yen", "CME", "0.0000005", "12500000", _QUARTERLY, "fx"),
        )
    }
)


def contract_spec(root: str) -> ContractSpec:
    """The spec for ``root`` (case-insensitive); `UnknownContractError` if there is none."""
    key = root.strip().upper()
    try:
        return CONTRACT_SPECS[key]
    except KeyError:
        raise UnknownContractError(key) from None


@dataclass(frozen=True)
class ContractSymbol:
    """One listed contract: root + month + 4-digit year, with its spec."""

    root: str
    month_code: str
    year: int
    spec: ContractSpec = field(repr=False)

    def __post_init__(self) -> None:
        if self.spec.root != self.root:
            raise ValueError(f"spec {self.spec.root!r} does not belong to root {self.root!r}")
        if len(self.month_code) != 1 or self.month_code not in MONTH_CODES:
            raise InvalidSymbolError(f"{self.month_code!r} is not a month code")
        if self.month_code not in self.spec.months:
            raise InvalidSymbolError(_not_listed_message(self.spec, self.month_code))
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"year must have 4 digits, got {self.year}")

    @property
    def month(self) -> int:
        return MONTH_CODES.index(self.month_code) + 1

    @property
    def expiry_month(self) -> date:
        """The first day of the contract month."""
        return date(self.year, self.month, 1)

    @property
    def tradovate_name(self) -> str:
        """Root + month code + last digit of the year, as Tradovate's API names it: ``MESZ6``."""
        return f"{self.root}{self.month_code}{self.year % 10}"

    @property
    def roll_date(self) -> date:
        return roll_date(self.spec, year=self.year, month=self.month)

    def __str__(self) -> str:
        return self.tradovate_name


# --- roll rule -------------------------------------------------------------------------------


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    first_friday = 1 + (4 - first.weekday()) % 7  # Monday = 0 .. Friday = 4
    return date(year, month, first_friday + 14)


def _last_business_day(year: int, month: int) -> date:
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    day = date(next_year, next_month, 1) - timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day -= timedelta(days=1)
    return day


def roll_date(spec: ContractSpec, *, year: int, month: int) -> date:
    """The day continuous names stop pointing at this contract (see the module docstring)."""
    if spec.family in ("equity_index", "fx", "rates"):
        return _third_friday(year, month) - timedelta(days=8)
    prev_year, prev_month = _previous_month(year, month)
    if spec.family == "energy":
        return date(prev_year, prev_month, 15)
    return _last_business_day(prev_year, prev_month)


def _listed_from(spec: ContractSpec, year: int, month: int) -> Iterator[tuple[int, int]]:
    while True:
        if MONTH_CODES[month - 1] in spec.months:
            yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def front_month(spec: ContractSpec, *, today: date, nth: int = 1) -> ContractSymbol:
    """The ``nth`` listed contract whose roll date is after ``today`` (1 = front month)."""
    if nth < 1:
        raise ValueError(f"nth must be 1 or more, got {nth}")
    # A contract month before today's month rolled in an earlier month, so start at today's.
    seen = 0
    for year, month in _listed_from(spec, today.year, today.month):
        if roll_date(spec, year=year, month=month) > today:
            seen += 1
            if seen == nth:
                return ContractSymbol(spec.root, MONTH_CODES[month - 1], year, spec)
    raise AssertionError("unreachable: the listing cycle is infinite")  # pragma: no cover


# --- parser ----------------------------------------------------------------------------------


def _exchange_today() -> date:
    return datetime.now(_EXCHANGE_TZ).date()


def _not_listed_message(spec: ContractSpec, month_code: str) -> str:
    listed = ", ".join(f"{m} ({_MONTH_NAMES[MONTH_CODES.index(m)]})" for m in spec.months)
    month_name = _MONTH_NAMES[MONTH_CODES.index(month_code)]
    return (
        f"{spec.root} has no {month_name} contract: month code {month_code!r} is not in its "
        f"listing cycle; {spec.root} is listed in {listed}"
    )


def _resolve_year(digits: str, *, today: date, text: str) -> int:
    low, high = today.year - _YEARS_BACK, today.year + _YEARS_AHEAD
    if len(digits) == 4:
        year = int(digits)
        if not low <= year <= high:
            raise InvalidSymbolError(
                f"Year {year} in {text!r} is outside {low}-{high}: Tradovate names carry only "
                "the last digit of the year, so only a 10-year window is unambiguous"
            )
        return year
    if len(digits) not in (1, 2):
        raise InvalidSymbolError(
            f"Year {digits!r} in {text!r} must have 1, 2 or 4 digits (MESZ6, MESZ26, MESZ2026)"
        )
    modulus = 10 ** len(digits)
    for year in range(low, high + 1):
        if year % modulus == int(digits):
            return year
    raise InvalidSymbolError(f"Year {digits!r} in {text!r} is not a year in {low}-{high}")


def _split_trailing_digits(body: str) -> tuple[str, str]:
    i = len(body)
    while i > 0 and body[i - 1].isdigit():
        i -= 1
    return body[:i], body[i:]


def parse_symbol(text: str, *, today: date | None = None) -> ContractSymbol:
    """Parse a Tradovate or TradingView symbol into a known, listed contract.

    Raises `UnknownContractError` for a root not in `CONTRACT_SPECS` and `InvalidSymbolError`
    for anything else that does not parse; never falls back to a default (D20). ``today``
    (default: today in Chicago) anchors short years and continuous names.
    """
    if not isinstance(text, str):
        raise TypeError(f"symbol must be a str, got {type(text).__name__}")
    if today is None:
        today = _exchange_today()
    body = text.strip().upper().rpartition(":")[2].strip()
    if not body:
        raise InvalidSymbolError(f"No symbol in {text!r}")
    continuous = body.endswith("!")
    core = body[:-1] if continuous else body
    if not core.isascii() or not core.isalnum():
        raise InvalidSymbolError(
            f"Symbol {text!r} must be letters and digits, e.g. MESZ6, CME_MINI:MNQZ2026 or NQ1!"
        )
    rest, digits = _split_trailing_digits(core)

    if continuous:
        if not digits or not rest:
            raise InvalidSymbolError(
                f"Continuous symbol {text!r} must be a root and a number, e.g. NQ1!"
            )
        nth = int(digits)
        if nth < 1:
            raise InvalidSymbolError(f"Continuous symbol {text!r}: the number starts at 1 (NQ1!)")
        spec = CONTRACT_SPECS.get(rest)
        if spec is None:
            raise UnknownContractError(rest, text.strip())
        return front_month(spec, today=today, nth=nth)

    if not digits:
        raise InvalidSymbolError(
            f"No year in {text!r}: expected root + month code + year, e.g. MESZ6 or MESZ2026"
        )
    if not rest:
        raise InvalidSymbolError(f"No root or month code in {text!r}")
    month_code, root = rest[-1], rest[:-1]
    if month_code not in MONTH_CODES:
        raise InvalidSymbolError(
            f"No month code before the year in {text!r}: {month_code!r} is not one of "
            f"{' '.join(MONTH_CODES)} (Jan..Dec)"
        )
    if not root:
        raise InvalidSymbolError(f"No contract root in {text!r}")
    spec = CONTRACT_SPECS.get(root)
    if spec is None:
        raise UnknownContractError(root, text.strip())
    if month_code not in spec.months:
        raise InvalidSymbolError(f"{text.strip()!r}: {_not_listed_message(spec, month_code)}")
    year = _resolve_year(digits, today=today, text=text.strip())
    return ContractSymbol(root, month_code, year, spec)


# --- Decimal price helpers (D07) -------------------------------------------------------------


def _require_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(
            f"{name} is a float ({value!r}); floats cannot hold tick prices exactly. "
            "Pass a Decimal, e.g. to_decimal('5001.25')"
        )
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    if value and value.adjusted() > _MAX_ADJUSTED_EXPONENT:
        raise ValueError(f"{name} {value} is too large to be a price")
    return value


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Convert a str, int or Decimal to a finite Decimal; floats and NaN/Infinity are refused."""
    if isinstance(value, float):
        raise TypeError(
            f"Refusing float {value!r}: it is not exact. Pass a str or Decimal, e.g. '5001.25'"
        )
    if isinstance(value, bool):
        raise TypeError(f"Refusing bool {value!r} as a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"Not a number: {value!r}") from None
    else:
        raise TypeError(f"Expected str, int or Decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"Not a finite number: {value!r}")
    return result


_ROUNDING = {"nearest": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def _on_tick_scale(value: Decimal, spec: ContractSpec) -> Decimal:
    """``value`` with the tick's number of decimal places (clean ``str``: no exponent)."""
    return _EXACT.quantize(value, spec.tick_size)


def round_to_tick(
    price: Decimal, spec: ContractSpec, *, direction: RoundingDirection = "nearest"
) -> Decimal:
    """The tick multiple nearest to ``price`` (ties away from zero), or the next one up / down.

    The result is exactly ``n * spec.tick_size`` for an integer ``n``, with as many decimal
    places as the tick (ES 5001.25, ZB 118.03125, YM 40000).
    """
    price = _require_decimal(price, "price")
    try:
        rounding = _ROUNDING[direction]
    except KeyError:
        raise ValueError(
            f"direction must be 'nearest', 'up' or 'down', got {direction!r}"
        ) from None
    ticks = _EXACT.multiply(price, Decimal(spec.ticks_per_point))
    whole_ticks = ticks.to_integral_value(rounding=rounding, context=_EXACT)
    return _on_tick_scale(_EXACT.multiply(whole_ticks, spec.tick_size), spec)


def is_on_tick(price: Decimal, spec: ContractSpec) -> bool:
    """True if ``price`` is an exact multiple of the contract's tick."""
    price = _require_decimal(price, "price")
    ticks = _EXACT.multiply(price, Decimal(spec.ticks_per_point))
    return ticks == ticks.to_integral_value(context=_EXACT)


def ticks_to_price(ticks: int | Decimal, spec: ContractSpec) -> Decimal:
    """A whole number of ticks as a price distance (GC: 10 ticks -> 1.0)."""
    if isinstance(ticks, int) and not isinstance(ticks, bool):
        count = Decimal(ticks)
    else:
        count = _require_decimal(ticks, "ticks")  # refuses float, bool and other types
    if count != count.to_integral_value(context=_EXACT):
        raise ValueError(f"ticks must be a whole number, got {ticks}: a price is whole ticks")
    return _on_tick_scale(_EXACT.multiply(count, spec.tick_size), spec)


def points_to_ticks(points: Decimal, spec: ContractSpec) -> Decimal:
    """A price distance in ticks, exactly (ES: 1.1 points -> 4.4 ticks); may be fractional."""
    points = _require_decimal(points, "points")
    return _plain(_EXACT.multiply(points, Decimal(spec.ticks_per_point)))
