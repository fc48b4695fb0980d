"""The trading settings in words: labels, help, what an empty value means, stored values
shown to people. One name per setting from model to form (D21); these are its words."""

from __future__ import annotations

from typing import Any

from trading.models import (
    DIRECTION_FILTER_CHOICES,
    DISTANCE_UNIT_CHOICES,
    OPPOSITE_DIRECTION_CHOICES,
    SAME_DIRECTION_CHOICES,
    SettingsFields,
)
from trading.settings_resolution import DirectionFilter, OppositeDirection, SameDirection

SETTING_NAMES = SettingsFields.SETTING_NAMES

# What a strategy's None means (ENGINE.md's defaults), in words.
DEFAULT_WORDS: dict[str, str] = {
    "entry_size": "1",
    "add_size": "1",
    "use_alert_quantity": "no",
    "take_profits": "no take-profit",
    "stop_distance": "no stop",
    "stop_unit": "no stop",
    "break_even_trigger_ticks": "off",
    "break_even_offset_ticks": "off",
    "trailing_trigger_ticks": "off",
    "trailing_step_ticks": "off",
    "on_same_direction": dict(SAME_DIRECTION_CHOICES)[SameDirection.IGNORE],
    "on_opposite_direction": dict(OPPOSITE_DIRECTION_CHOICES)[OppositeDirection.REVERSE],
    "invert_signals": "no",
    "direction_filter": dict(DIRECTION_FILTER_CHOICES)[DirectionFilter.BOTH],
    "time_windows": "any time",
    "flatten_after_cutoff": "no",
    "cooldown_seconds": "none",
    "max_signals_per_day": "no limit",
    "max_daily_loss": "no limit",
    "symbol_override": "the alert's ticker",
}

LABELS: dict[str, str] = {
    "entry_size": "Entry size (contracts)",
    "add_size": "Add size (contracts)",
    "use_alert_quantity": "Use the alert's quantity",
    "take_profits": "Take-profits",
    "stop_distance": "Stop distance",
    "stop_unit": "Stop unit",
    "break_even_trigger_ticks": "Break-even trigger (ticks)",
    "break_even_offset_ticks": "Break-even offset (ticks)",
    "trailing_trigger_ticks": "Trailing trigger (ticks)",
    "trailing_step_ticks": "Trailing step (ticks)",
    "on_same_direction": "Signal in the same direction",
    "on_opposite_direction": "Signal in the opposite direction",
    "invert_signals": "Invert signals",
    "direction_filter": "Direction",
    "time_windows": "Time windows",
    "flatten_after_cutoff": "Flatten after the last window",
    "cooldown_seconds": "Cooldown (seconds)",
    "max_signals_per_day": "Max signals per day",
    "max_daily_loss": "Max daily loss ($)",
    "symbol_override": "Symbol override",
}

# What a setting acts on, where its label cannot say it.
HELP: dict[str, str] = {
    "break_even_trigger_ticks": "Once the price is this many ticks in profit, the streams "
    "process (position monitor) moves the stop to entry + the offset. Empty: no break-even.",
    "trailing_trigger_ticks": "Once the price is this many ticks in profit, the stop follows "
    "it at the stop's first distance, in whole steps. Empty: no trailing.",
    "flatten_after_cutoff": "When a trading window ends, close this trader's open positions "
    "(within 30 s; a cutoff missed by more than 30 minutes is not acted on late). Needs time "
    "windows.",
    "max_daily_loss": "Blocks entries and adds once the account's realized loss today, as "
    "Tradovate reports it (every strategy on that account), reaches this amount. Exits are "
    "never blocked.",
}

CHOICES: dict[str, list[tuple[str, str]]] = {
    "stop_unit": list(DISTANCE_UNIT_CHOICES),
    "on_same_direction": list(SAME_DIRECTION_CHOICES),
    "on_opposite_direction": list(OPPOSITE_DIRECTION_CHOICES),
    "direction_filter": list(DIRECTION_FILTER_CHOICES),
}
BOOLEANS = ("use_alert_quantity", "invert_signals", "flatten_after_cutoff")

COUNTS = (
    "entry_size",
    "add_size",
    "break_even_trigger_ticks",
    "trailing_trigger_ticks",
    "trailing_step_ticks",
    "cooldown_seconds",
    "max_signals_per_day",
)


def setting_words(name: str, value: Any) -> str:
    """A stored setting in words (None -> the default's words)."""
    if value is None:
        return DEFAULT_WORDS[name]
    if name in BOOLEANS:
        return "yes" if value else "no"
    if name in CHOICES:
        return dict(CHOICES[name]).get(value, str(value))
    if name == "take_profits":
        if not value:
            return "none"
        return "; ".join(
            f"{lvl.get('distance')} {lvl.get('unit')} × {lvl.get('qty')} {lvl.get('qty_unit')}"
            for lvl in value
        )
    if name == "time_windows":
        return ", ".join(f"{a}–{b}" for a, b in value) if value else "any time"
    return str(value)
