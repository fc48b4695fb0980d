"""Settings precedence: alert (if allowed) > trader > strategy > default (ENGINE.md).

Only ``None`` inherits; ``0``, ``False`` and ``()`` are values that win like any other (D06,
D41). Alert fields count only when the strategy allows them. ``multiplier`` and
``max_contracts`` come from the TraderAccount; ``max_contracts=None`` is "no cap" (D37).
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from trading.settings_resolution import (
    DEFAULTS,
    OFF,
    OVERRIDABLE_FIELDS,
    AlertOverrides,
    BreakEven,
    DirectionFilter,
    DistanceUnit,
    EffectiveSettings,
    OppositeDirection,
    QtyCeiling,
    QtyUnit,
    SameDirection,
    SettingsLayer,
    StopSetting,
    TakeProfitLevel,
    TimeWindow,
    Trailing,
    resolve,
)

EMPTY = SettingsLayer()
NO_ALERT = AlertOverrides()
ALL = frozenset(OVERRIDABLE_FIELDS)


def tp(ticks: int) -> TakeProfitLevel:
    return TakeProfitLevel(Decimal(ticks), DistanceUnit.TICKS, Decimal(1), QtyUnit.CONTRACTS)


# Per field: three distinct values (strategy, trader, alert). The third is the "zero-ish"
# value where one exists, so a falsy value must still win at the alert level.
SAMPLES: dict[str, tuple[Any, Any, Any]] = {
    "entry_size": (3, 2, 0),
    "add_size": (3, 2, 0),
    "use_alert_quantity": (True, True, False),
    "take_profits": ((tp(8),), (tp(4), tp(12)), ()),
    "stop": (
        StopSetting(Decimal(10), DistanceUnit.TICKS),
        StopSetting(Decimal(2), DistanceUnit.POINTS),
        StopSetting(Decimal(0), DistanceUnit.TICKS),
    ),
    "break_even": (BreakEven(8, 1), BreakEven(4, 0), BreakEven(0, 0)),
    "trailing": (Trailing(8, 2), Trailing(6, 1), Trailing(0, 0)),
    "on_same_direction": (SameDirection.ADD, SameDirection.REENTER, SameDirection.IGNORE),
    "on_opposite_direction": (
        OppositeDirection.CLOSE,
        OppositeDirection.IGNORE,
        OppositeDirection.REVERSE,
    ),
    "invert_signals": (True, True, False),
    "direction_filter": (
        DirectionFilter.LONG_ONLY,
        DirectionFilter.SHORT_ONLY,
        DirectionFilter.BOTH,
    ),
    "time_windows": (
        (TimeWindow(time(9, 30), time(16)),),
        (TimeWindow(time(22), time(2)),),
        (),
    ),
    "time_zone": ("America/Chicago", "Europe/London", "Asia/Tokyo"),
    "cooldown_seconds": (60, 30, 0),
    "max_signals_per_day": (10, 5, 0),
    "max_daily_loss": (Decimal(500), Decimal(250), Decimal(0)),
}


def test_samples_cover_every_setting() -> None:
    assert set(SAMPLES) == OVERRIDABLE_FIELDS


def run(
    *,
    strategy: SettingsLayer = EMPTY,
    trader: SettingsLayer = EMPTY,
    alert: AlertOverrides = NO_ALERT,
    allowed: frozenset[str] = frozenset(),
    multiplier: Decimal = Decimal(1),
    max_contracts: int | None = None,
    owner_time_zone: str = "America/New_York",
) -> EffectiveSettings:
    return resolve(
        strategy=strategy,
        trader=trader,
        alert=alert,
        allowed_overrides=allowed,
        multiplier=multiplier,
        max_contracts=max_contracts,
        owner_time_zone=owner_time_zone,
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_precedence_alert_over_trader_over_strategy_over_default(name: str) -> None:
    s_value, t_value, a_value = SAMPLES[name]
    strategy = replace(EMPTY, **{name: s_value})
    trader = replace(EMPTY, **{name: t_value})
    alert = replace(NO_ALERT, **{name: a_value})
    allowed = frozenset({name})

    assert (
        getattr(run(strategy=strategy, trader=trader, alert=alert, allowed=allowed), name)
        == a_value
    )
    assert getattr(run(strategy=strategy, trader=trader, alert=alert), name) == t_value
    assert getattr(run(strategy=strategy, alert=alert), name) == s_value
    assert (
        getattr(run(strategy=strategy, trader=EMPTY, alert=NO_ALERT, allowed=allowed), name)
        == s_value
    )
    default = "America/New_York" if name == "time_zone" else getattr(DEFAULTS, name)
    assert getattr(run(), name) == default


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_zero_like_values_override_at_the_trader_level(name: str) -> None:
    """D06/D41: the third sample (0, False, (), ...) at the trader beats the strategy."""
    s_value, _, zero_like = SAMPLES[name]
    settings = run(
        strategy=replace(EMPTY, **{name: s_value}), trader=replace(EMPTY, **{name: zero_like})
    )
    assert getattr(settings, name) == zero_like


def test_none_inherits_and_zero_overrides() -> None:
    strategy = SettingsLayer(entry_size=3, add_size=2, cooldown_seconds=60)
    trader = SettingsLayer(entry_size=0, add_size=None, cooldown_seconds=0)
    settings = run(strategy=strategy, trader=trader)
    assert settings.entry_size == 0
    assert settings.add_size == 2
    assert settings.cooldown_seconds == 0


def test_alert_fields_are_ignored_unless_allowed() -> None:
    strategy = SettingsLayer(entry_size=3)
    alert = AlertOverrides(entry_size=7, invert_signals=True)
    assert run(strategy=strategy, alert=alert).entry_size == 3
    assert (
        run(strategy=strategy, alert=alert, allowed=frozenset({"invert_signals"})).entry_size == 3
    )
    only_size = run(strategy=strategy, alert=alert, allowed=frozenset({"entry_size"}))
    assert only_size.entry_size == 7
    assert only_size.invert_signals is False


def test_an_allowed_field_the_alert_does_not_carry_inherits() -> None:
    settings = run(
        strategy=SettingsLayer(entry_size=3),
        trader=SettingsLayer(entry_size=2),
        allowed=ALL,
    )
    assert settings.entry_size == 2


def test_an_allowed_alert_zero_is_zero() -> None:
    settings = run(
        strategy=SettingsLayer(entry_size=3),
        trader=SettingsLayer(entry_size=2),
        alert=AlertOverrides(entry_size=0),
        allowed=frozenset({"entry_size"}),
    )
    assert settings.entry_size == 0


def test_multiplier_and_max_contracts_come_from_the_trader_account() -> None:
    settings = run(multiplier=Decimal("2.5"), max_contracts=4)
    assert settings.multiplier == Decimal("2.5")
    assert settings.max_contracts == 4
    assert "multiplier" not in OVERRIDABLE_FIELDS
    assert "max_contracts" not in OVERRIDABLE_FIELDS


def test_no_cap_is_none_and_zero_cap_is_zero() -> None:
    assert run(max_contracts=None).max_contracts is None
    assert run(max_contracts=0).max_contracts == 0
    assert DEFAULTS.max_contracts is None


def test_off_switches_off_a_lower_layer_value() -> None:
    strategy = SettingsLayer(
        stop=StopSetting(Decimal(10), DistanceUnit.TICKS),
        max_signals_per_day=3,
        max_daily_loss=Decimal(500),
        cooldown_seconds=60,
        break_even=BreakEven(8, 1),
        trailing=Trailing(8, 2),
    )
    trader = SettingsLayer(
        stop=OFF,
        max_signals_per_day=OFF,
        max_daily_loss=OFF,
        cooldown_seconds=OFF,
        break_even=OFF,
        trailing=OFF,
    )
    settings = run(strategy=strategy, trader=trader)
    assert settings.stop is None
    assert settings.max_signals_per_day is None
    assert settings.max_daily_loss is None
    assert settings.cooldown_seconds is None
    assert settings.break_even is None
    assert settings.trailing is None
    # ...and the alert can switch it back on only if allowed.
    alert = AlertOverrides(stop=StopSetting(Decimal(4), DistanceUnit.POINTS))
    assert run(strategy=strategy, trader=trader, alert=alert).stop is None
    allowed = run(strategy=strategy, trader=trader, alert=alert, allowed=frozenset({"stop"}))
    assert allowed.stop == StopSetting(Decimal(4), DistanceUnit.POINTS)


def test_time_zone_defaults_to_the_owner_zone() -> None:
    assert run(owner_time_zone="Europe/Berlin").time_zone == "Europe/Berlin"
    assert run(strategy=SettingsLayer(time_zone="Asia/Tokyo")).time_zone == "Asia/Tokyo"


def test_every_default_is_the_documented_one() -> None:
    settings = run()
    expected = {
        "entry_size": 1,
        "add_size": 1,
        "use_alert_quantity": False,
        "multiplier": Decimal(1),
        "max_contracts": None,
        "alert_quantity_max": None,
        "order_qty_ceiling": QtyCeiling(100, "", "ORDER_QTY_CEILING"),
        "take_profits": (),
        "stop": None,
        "break_even": None,
        "trailing": None,
        "on_same_direction": SameDirection.IGNORE,
        "on_opposite_direction": OppositeDirection.REVERSE,
        "invert_signals": False,
        "direction_filter": DirectionFilter.BOTH,
        "time_windows": (),
        "time_zone": "America/New_York",
        "cooldown_seconds": None,
        "max_signals_per_day": None,
        "max_daily_loss": None,
    }
    assert {f.name: getattr(settings, f.name) for f in fields(EffectiveSettings)} == expected


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"allowed": frozenset({"dca_enabled"})}, ValueError),
        ({"owner_time_zone": "Mars/Olympus"}, ValueError),
        ({"strategy": SettingsLayer(time_zone="Not/AZone")}, ValueError),
        ({"multiplier": 2.0}, TypeError),
        ({"multiplier": Decimal(-1)}, ValueError),
        ({"max_contracts": -1}, ValueError),
        ({"trader": SettingsLayer(entry_size=-1)}, ValueError),
        ({"trader": SettingsLayer(take_profits=tuple(tp(i + 1) for i in range(6)))}, ValueError),
        ({"trader": SettingsLayer(max_daily_loss=100.0)}, TypeError),  # type: ignore[arg-type]
    ],
    ids=[
        "unknown_override_name",
        "unknown_owner_zone",
        "unknown_zone",
        "float_multiplier",
        "negative_multiplier",
        "negative_cap",
        "negative_size",
        "six_take_profits",
        "float_daily_loss",
    ],
)
def test_invalid_settings_are_refused_loudly(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        run(**kwargs)


def test_setting_types_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="start equals end"):
        TimeWindow(time(9), time(9))
    with pytest.raises(ValueError, match="100%"):
        TakeProfitLevel(Decimal(4), DistanceUnit.TICKS, Decimal(101), QtyUnit.PERCENT)
    with pytest.raises(ValueError):
        StopSetting(Decimal(-1), DistanceUnit.TICKS)
