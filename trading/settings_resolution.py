"""Settings and their precedence: alert > trader > strategy > default (ENGINE.md).

Pure: no ORM, no I/O, no clock. Every setting exists at three levels -- the alert (only the
fields the strategy allows it to override), the trader and the strategy -- and `resolve` turns
them into one `EffectiveSettings` the engine reads.

Two past disasters shape this module:

- D06 / D41: ``None`` and ``0`` were confused (a null shown as a number, a falsy 0 in sizing).
  Here only ``None`` means "inherit"; ``0`` is a value at every level and wins like any other.
  There is no truthiness test on a number anywhere in this module.
- D37: a migration default ``max_contracts=10`` capped everyone. "No limit" is ``None``, and the
  cap comes from the TraderAccount only, never from a default.

A layer cannot use ``None`` to say "none" (``None`` inherits), so settings whose effective value
may be absent (stop, break-even, trailing, cooldown, signals per day, daily loss) also accept
`OFF` in a layer: "explicitly switched off here", which overrides a lower layer's value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULTS",
    "DEFAULT_QTY_CEILING",
    "ORDER_QTY_CEILING_DEFAULT",
    "MAX_TAKE_PROFIT_LEVELS",
    "MAX_TIME_WINDOWS",
    "OFF",
    "OVERRIDABLE_FIELDS",
    "AlertOverrides",
    "BreakEven",
    "DirectionFilter",
    "DistanceUnit",
    "EffectiveSettings",
    "Off",
    "OppositeDirection",
    "QtyCeiling",
    "QtyUnit",
    "SameDirection",
    "SettingsLayer",
    "StopSetting",
    "TakeProfitLevel",
    "TimeWindow",
    "Trailing",
    "order_qty_ceiling_for",
    "order_qty_ceilings_parse",
    "resolve",
]

MAX_TAKE_PROFIT_LEVELS = 5
MAX_TIME_WINDOWS = 2
# The platform's safety ceiling per order when the deployment sets none (ORDER_QTY_CEILING).
ORDER_QTY_CEILING_DEFAULT = 100


class SameDirection(enum.StrEnum):
    """What a signal in the direction of the open position does."""

    ADD = "add"  # DCA: add the add-size
    IGNORE = "ignore"
    REENTER = "reenter"  # flatten, then a fresh entry


class OppositeDirection(enum.StrEnum):
    """What a signal against the open position does."""

    REVERSE = "reverse"  # close, then open the other side
    CLOSE = "close"  # close and stop there
    IGNORE = "ignore"


class DistanceUnit(enum.StrEnum):
    TICKS = "ticks"
    POINTS = "points"
    PERCENT = "percent"  # of the average entry price
    PRICE = "price"  # the alert's own take-profit / stop price; the distance is ignored


class QtyUnit(enum.StrEnum):
    CONTRACTS = "contracts"  # before the multiplier
    PERCENT = "percent"  # of the whole position


class DirectionFilter(enum.StrEnum):
    BOTH = "both"
    LONG_ONLY = "long_only"
    SHORT_ONLY = "short_only"


class Off(enum.Enum):
    """The type of `OFF`: a layer's explicit "none here" (``None`` would inherit)."""

    OFF = "off"

    def __repr__(self) -> str:
        return "OFF"


OFF = Off.OFF


def _decimal(value: object, name: str, *, minimum: Decimal | None = Decimal(0)) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} is a float ({value!r}); pass a Decimal, e.g. Decimal('0.5')")
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def _tuple_of(value: object, kind: type, name: str) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, kind) for item in value):
        raise TypeError(f"{name} must be a tuple of {kind.__name__}, got {value!r}")


def _check_time_zone(name: object) -> None:
    if not isinstance(name, str) or name.strip() == "":
        raise ValueError(f"time_zone must be an IANA zone name, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time_zone {name!r} is not an IANA zone name") from None


@dataclass(frozen=True)
class TakeProfitLevel:
    """One take-profit: how far (``distance`` in ``unit``) and how much (``qty`` in ``qty_unit``)."""

    distance: Decimal
    unit: DistanceUnit
    qty: Decimal
    qty_unit: QtyUnit

    def __post_init__(self) -> None:
        _decimal(self.distance, "take-profit distance")
        _decimal(self.qty, "take-profit quantity")
        if not isinstance(self.unit, DistanceUnit):
            raise TypeError(f"take-profit unit must be a DistanceUnit, got {self.unit!r}")
        if not isinstance(self.qty_unit, QtyUnit):
            raise TypeError(f"take-profit qty_unit must be a QtyUnit, got {self.qty_unit!r}")
        if self.qty_unit is QtyUnit.PERCENT and self.qty > 100:
            raise ValueError(f"take-profit quantity {self.qty}% is more than 100%")


@dataclass(frozen=True)
class StopSetting:
    """One stop for the whole position, ``distance`` in ``unit`` from the average entry."""

    distance: Decimal
    unit: DistanceUnit

    def __post_init__(self) -> None:
        _decimal(self.distance, "stop distance")
        if not isinstance(self.unit, DistanceUnit):
            raise TypeError(f"stop unit must be a DistanceUnit, got {self.unit!r}")


@dataclass(frozen=True)
class BreakEven:
    """Move the stop to entry + ``offset_ticks`` once the trade is ``trigger_ticks`` in profit.
    The offset may be negative (a stop just short of entry), as the settings form allows."""

    trigger_ticks: int
    offset_ticks: int

    def __post_init__(self) -> None:
        _count(self.trigger_ticks, "break-even trigger_ticks")
        if isinstance(self.offset_ticks, bool) or not isinstance(self.offset_ticks, int):
            raise TypeError(
                f"break-even offset_ticks must be an int, got {type(self.offset_ticks).__name__}"
            )


@dataclass(frozen=True)
class Trailing:
    """Trail the stop by ``step_ticks`` once the trade is ``trigger_ticks`` in profit."""

    trigger_ticks: int
    step_ticks: int

    def __post_init__(self) -> None:
        _count(self.trigger_ticks, "trailing trigger_ticks")
        _count(self.step_ticks, "trailing step_ticks")


@dataclass(frozen=True)
class TimeWindow:
    """Entries allowed from ``start`` (inclusive) to ``end`` (exclusive); ``end < start``
    crosses midnight. Read in `EffectiveSettings.time_zone`."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"time window {name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"time window {name} must be naive (the zone is time_zone)")
        if self.start == self.end:
            raise ValueError(f"time window {self.start}-{self.end} is empty: start equals end")

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class QtyCeiling:
    """The platform's safety ceiling: no single entry order is larger than ``contracts``.

    Not a setting of the strategy, trader or account: the deployment's (``source`` names the
    environment variable it came from, ``root`` the contract it applies to, for the reason)."""

    contracts: int = ORDER_QTY_CEILING_DEFAULT
    root: str = ""
    source: str = "ORDER_QTY_CEILING"

    def __post_init__(self) -> None:
        if _count(self.contracts, "order quantity ceiling") < 1:
            raise ValueError(f"the order quantity ceiling must be at least 1, got {self.contracts}")


def order_qty_ceilings_parse(text: str, *, known_roots: frozenset[str]) -> dict[str, int]:
    """``"ES=50,MES=200"`` (ORDER_QTY_CEILING_BY_ROOT) as ``{"ES": 50, "MES": 200}``.

    Raises ``ValueError`` naming the entry for anything else: an unknown root, a value that is
    not a whole number of at least 1, a root given twice. Empty text: no overrides."""
    ceilings: dict[str, int] = {}
    for entry in text.split(","):
        if entry.strip() == "":
            continue
        root, equals, number = (part.strip() for part in entry.partition("="))
        root = root.upper()
        if equals == "" or not number.isdigit() or int(number) < 1:
            raise ValueError(
                f"{entry.strip()!r} is not ROOT=CONTRACTS with a whole number of at least 1 "
                "(e.g. ES=50,MES=200)"
            )
        if root not in known_roots:
            raise ValueError(
                f"{root!r} is not a known contract root; known: {', '.join(sorted(known_roots))}"
            )
        if root in ceilings:
            raise ValueError(f"{root} is given twice")
        ceilings[root] = int(number)
    return ceilings


def order_qty_ceiling_for(root: str, *, default: int, by_root: dict[str, int]) -> QtyCeiling:
    """The ceiling for contract ``root``: its own (ORDER_QTY_CEILING_BY_ROOT) or the default."""
    if root in by_root:
        return QtyCeiling(by_root[root], root, "ORDER_QTY_CEILING_BY_ROOT")
    return QtyCeiling(default, root, "ORDER_QTY_CEILING")


DEFAULT_QTY_CEILING = QtyCeiling()


@dataclass(frozen=True)
class SettingsLayer:
    """One level of settings (strategy or trader). Every field ``None`` = inherit from below.

    ``0``, ``False`` and ``()`` are values, not "unset". `OFF` switches an optional setting off.
    """

    entry_size: int | None = None
    add_size: int | None = None
    use_alert_quantity: bool | None = None
    take_profits: tuple[TakeProfitLevel, ...] | None = None
    stop: StopSetting | Off | None = None
    break_even: BreakEven | Off | None = None
    trailing: Trailing | Off | None = None
    on_same_direction: SameDirection | None = None
    on_opposite_direction: OppositeDirection | None = None
    invert_signals: bool | None = None
    direction_filter: DirectionFilter | None = None
    time_windows: tuple[TimeWindow, ...] | None = None
    time_zone: str | None = None
    cooldown_seconds: int | Off | None = None
    max_signals_per_day: int | Off | None = None
    max_daily_loss: Decimal | Off | None = None


@dataclass(frozen=True)
class AlertOverrides(SettingsLayer):
    """The alert's own values; `resolve` reads a field only if the strategy allows it."""


OVERRIDABLE_FIELDS: frozenset[str] = frozenset(f.name for f in fields(SettingsLayer))


@dataclass(frozen=True)
class EffectiveSettings:
    """The resolved settings the engine reads. Validated on construction."""

    entry_size: int = 1
    add_size: int = 1
    use_alert_quantity: bool = False
    multiplier: Decimal = Decimal(1)
    max_contracts: int | None = None  # None = no cap (D37)
    # The most an alert's quantity may ask for (the strategy's alert_quantity_max); None: only
    # the platform's ceiling limits it.
    alert_quantity_max: int | None = None
    order_qty_ceiling: QtyCeiling = (
        DEFAULT_QTY_CEILING  # the platform's, per order (never a user's)
    )
    take_profits: tuple[TakeProfitLevel, ...] = ()
    stop: StopSetting | None = None
    break_even: BreakEven | None = None
    trailing: Trailing | None = None
    on_same_direction: SameDirection = SameDirection.IGNORE
    on_opposite_direction: OppositeDirection = OppositeDirection.REVERSE
    invert_signals: bool = False
    direction_filter: DirectionFilter = DirectionFilter.BOTH
    time_windows: tuple[TimeWindow, ...] = ()
    time_zone: str = "UTC"
    cooldown_seconds: int | None = None
    max_signals_per_day: int | None = None
    max_daily_loss: Decimal | None = None

    def __post_init__(self) -> None:
        _count(self.entry_size, "entry_size")
        _count(self.add_size, "add_size")
        for name in ("use_alert_quantity", "invert_signals"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        _decimal(self.multiplier, "multiplier")
        if self.max_contracts is not None:
            _count(self.max_contracts, "max_contracts")
        if self.alert_quantity_max is not None:
            _count(self.alert_quantity_max, "alert_quantity_max")
        if not isinstance(self.order_qty_ceiling, QtyCeiling):
            raise TypeError(
                f"order_qty_ceiling must be a QtyCeiling, got {self.order_qty_ceiling!r}"
            )
        _tuple_of(self.take_profits, TakeProfitLevel, "take_profits")
        if len(self.take_profits) > MAX_TAKE_PROFIT_LEVELS:
            raise ValueError(
                f"at most {MAX_TAKE_PROFIT_LEVELS} take-profit levels, got {len(self.take_profits)}"
            )
        for name, kind in (
            ("stop", StopSetting),
            ("break_even", BreakEven),
            ("trailing", Trailing),
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"{name} must be a {kind.__name__} or None, got {value!r}")
        for name, enum_kind in (
            ("on_same_direction", SameDirection),
            ("on_opposite_direction", OppositeDirection),
            ("direction_filter", DirectionFilter),
        ):
            if not isinstance(getattr(self, name), enum_kind):
                raise TypeError(f"{name} must be a {enum_kind.__name__}")
        _tuple_of(self.time_windows, TimeWindow, "time_windows")
        if len(self.time_windows) > MAX_TIME_WINDOWS:
            raise ValueError(
                f"at most {MAX_TIME_WINDOWS} time windows, got {len(self.time_windows)}"
            )
        _check_time_zone(self.time_zone)
        if self.cooldown_seconds is not None:
            _count(self.cooldown_seconds, "cooldown_seconds")
        if self.max_signals_per_day is not None:
            _count(self.max_signals_per_day, "max_signals_per_day")
        if self.max_daily_loss is not None:
            _decimal(self.max_daily_loss, "max_daily_loss")


DEFAULTS = EffectiveSettings()


def _pick(name: str, *candidates: Any) -> Any:
    """The first candidate that is not None (``0``, ``False``, ``()``, `OFF` all count)."""
    for value in candidates:
        if value is not None:
            return value
    return getattr(DEFAULTS, name)


def resolve(
    *,
    strategy: SettingsLayer,
    trader: SettingsLayer,
    alert: AlertOverrides,
    allowed_overrides: frozenset[str],
    multiplier: Decimal,
    max_contracts: int | None,
    owner_time_zone: str = "UTC",
    alert_quantity_max: int | None = None,
    order_qty_ceiling: QtyCeiling = DEFAULT_QTY_CEILING,
) -> EffectiveSettings:
    """Resolve every setting: alert (if allowed and present) > trader > strategy > default.

    Guarantees: only ``None`` inherits (``0`` wins like any value, D06/D41); an alert field is
    read only if its name is in ``allowed_overrides`` (an unknown name raises ``ValueError``);
    ``multiplier`` and ``max_contracts`` come from the TraderAccount only (``None`` = no cap,
    D37); a layer's `OFF` resolves to ``None`` ("none"); ``time_zone`` defaults to
    ``owner_time_zone``; ``alert_quantity_max`` (the strategy's) and ``order_qty_ceiling`` (the
    platform's, default 100 contracts) pass through unchanged: no layer can lift them. The
    result is validated (floats, negatives, unknown zones raise).
    """
    unknown = set(allowed_overrides) - OVERRIDABLE_FIELDS
    if unknown:
        raise ValueError(
            f"allowed_overrides names unknown settings {sorted(unknown)}; "
            f"known: {sorted(OVERRIDABLE_FIELDS)}"
        )
    _check_time_zone(owner_time_zone)
    values: dict[str, Any] = {}
    for f in fields(SettingsLayer):
        name = f.name
        from_alert = getattr(alert, name) if name in allowed_overrides else None
        if name == "time_zone":
            chosen = _pick(name, from_alert, trader.time_zone, strategy.time_zone, owner_time_zone)
        else:
            chosen = _pick(name, from_alert, getattr(trader, name), getattr(strategy, name))
        values[name] = None if chosen is OFF else chosen
    return EffectiveSettings(
        multiplier=multiplier,
        max_contracts=max_contracts,
        alert_quantity_max=alert_quantity_max,
        order_qty_ceiling=order_qty_ceiling,
        **values,
    )
