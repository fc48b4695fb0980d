"""A trader account's settings as the engine reads them: the models' stored settings mapped
to ``settings_resolution`` layers (None inherits, OFF switches off; 0 is a value, D06/D41),
resolved with the alert's allowed overrides, the account's multiplier and cap, and the
platform's safety ceiling for the contract that trades."""

from __future__ import annotations

from datetime import time as dtime
from decimal import Decimal

from django.conf import settings as django_settings

from trading.alerts import ParsedAlert
from trading.contracts import parse_symbol
from trading.models import Strategy, Trader, TraderAccount
from trading.settings_resolution import (
    OFF,
    AlertOverrides,
    BreakEven,
    DistanceUnit,
    EffectiveSettings,
    OppositeDirection,
    QtyUnit,
    SameDirection,
    SettingsLayer,
    StopSetting,
    TakeProfitLevel,
    TimeWindow,
    Trailing,
    resolve,
)
from trading.settings_resolution import DirectionFilter as EngineDirectionFilter


def time_windows_from(stored: list[list[str]] | None) -> tuple[TimeWindow, ...] | None:
    """A model's stored ``time_windows`` (``[["09:30", "15:45"], ...]``) as the engine's."""
    if stored is None:
        return None
    return tuple(
        TimeWindow(start=dtime.fromisoformat(a), end=dtime.fromisoformat(b)) for a, b in stored
    )


def settings_layer(obj: Strategy | Trader) -> SettingsLayer:
    """The model's settings as the engine's layer (None = inherit / default)."""
    take_profits = None
    if obj.take_profits is not None:
        take_profits = tuple(
            TakeProfitLevel(
                distance=Decimal(str(level.get("distance") or "0")),
                unit=DistanceUnit(level["unit"]),
                qty=Decimal(str(level["qty"])),
                qty_unit=QtyUnit(level.get("qty_unit", "contracts")),
            )
            for level in obj.take_profits
        )
    stop = None
    if obj.stop_unit is not None:
        stop = StopSetting(
            distance=obj.stop_distance if obj.stop_distance is not None else Decimal(0),
            unit=DistanceUnit(obj.stop_unit),
        )
    windows = time_windows_from(obj.time_windows)
    break_even = None
    if obj.break_even_trigger_ticks is not None:
        break_even = BreakEven(
            trigger_ticks=obj.break_even_trigger_ticks,
            offset_ticks=obj.break_even_offset_ticks or 0,
        )
    trailing = None
    if obj.trailing_trigger_ticks is not None and obj.trailing_step_ticks is not None:
        trailing = Trailing(
            trigger_ticks=obj.trailing_trigger_ticks, step_ticks=obj.trailing_step_ticks
        )
    off = set(obj.switched_off) if isinstance(obj, Trader) else set()
    return SettingsLayer(
        break_even=OFF if "break_even" in off else break_even,
        trailing=OFF if "trailing" in off else trailing,
        entry_size=obj.entry_size,
        add_size=obj.add_size,
        use_alert_quantity=obj.use_alert_quantity,
        take_profits=take_profits,
        stop=OFF if "stop" in off else stop,
        on_same_direction=SameDirection(obj.on_same_direction) if obj.on_same_direction else None,
        on_opposite_direction=(
            OppositeDirection(obj.on_opposite_direction) if obj.on_opposite_direction else None
        ),
        invert_signals=obj.invert_signals,
        direction_filter=EngineDirectionFilter(obj.direction_filter)
        if obj.direction_filter
        else None,
        time_windows=windows,
        cooldown_seconds=OFF if "cooldown_seconds" in off else obj.cooldown_seconds,
        max_signals_per_day=OFF if "max_signals_per_day" in off else obj.max_signals_per_day,
        max_daily_loss=OFF if "max_daily_loss" in off else obj.max_daily_loss,
    )


def effective_settings(*, account: TraderAccount, alert: ParsedAlert) -> EffectiveSettings:
    trader = account.trader
    strategy = trader.strategy
    allowed = {
        name
        for name, ok in (
            ("quantity", strategy.alert_may_set_quantity),
            ("take_profit", strategy.alert_may_set_take_profit),
            ("stop", strategy.alert_may_set_stop),
        )
        if ok
    }
    overrides = AlertOverrides(
        use_alert_quantity=True if "quantity" in allowed and alert.quantity is not None else None
    )
    from trading.settings_resolution import order_qty_ceiling_for

    try:  # the platform's ceiling is per contract root; an unknown symbol trades nothing anyway
        root = parse_symbol(account_symbol(account=account, alert=alert)).root
    except ValueError:
        root = ""
    return resolve(
        strategy=settings_layer(strategy),
        trader=settings_layer(trader),
        alert=overrides,
        allowed_overrides=frozenset({"use_alert_quantity"} if "quantity" in allowed else set()),
        multiplier=account.multiplier,
        max_contracts=account.max_contracts,
        owner_time_zone=trader.user.time_zone,
        alert_quantity_max=strategy.alert_quantity_max,
        order_qty_ceiling=order_qty_ceiling_for(
            root,
            default=django_settings.ORDER_QTY_CEILING,
            by_root=django_settings.ORDER_QTY_CEILING_BY_ROOT,
        ),
    )


def account_symbol(*, account: TraderAccount, alert: ParsedAlert) -> str:
    trader, strategy = account.trader, account.trader.strategy
    symbol = trader.symbol_override or strategy.symbol_override or alert.symbol
    if symbol is None or symbol == "":
        raise ValueError(
            'The alert has no symbol and the strategy sets none: add "ticker": '
            '"{{ticker}}" to the alert or a symbol override to the strategy.'
        )
    return symbol
