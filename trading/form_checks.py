"""Settings that contradict each other, and settings that are legal but block something.

Pure: the settings forms hand in what the form sets (``own``) and what will be in force
(``effective``: on a trader, its own value or else its strategy's), and get back problems
(form errors naming every field involved) and warnings (shown, not blocking). Every rule here
is a combination the engine would otherwise resolve silently, which is how a stop distance
with no unit dropped the stop (issue 9 §3).

A problem is raised only when the form itself sets one of its fields: a trader's form does
not refuse a combination that lives wholly on the strategy (the strategy's form checked it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Labels = Mapping[str, str]
Effective = Callable[[str], Any]


@dataclass(frozen=True)
class Problem:
    fields: tuple[str, ...]  # every field the message names; the form marks each one
    message: str


def _q(labels: Labels, name: str) -> str:
    return f"“{labels[name]}”"


def _number(value: Any) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def _stop(own: Mapping[str, Any], labels: Labels) -> list[Problem]:
    distance, unit = own.get("stop_distance"), own.get("stop_unit")
    fields = ("stop_distance", "stop_unit")
    if distance is not None and unit is None:
        return [
            Problem(
                fields,
                f"{_q(labels, 'stop_distance')} is {_number(distance)} but "
                f"{_q(labels, 'stop_unit')} is empty: without a unit the stop is dropped. "
                "Choose a unit, or clear the distance.",
            )
        ]
    if unit is not None and unit != "price" and distance is None:
        return [
            Problem(
                fields,
                f"{_q(labels, 'stop_unit')} is {unit} but {_q(labels, 'stop_distance')} is "
                "empty: the stop would sit at the entry price. Enter a distance, or clear the "
                "unit.",
            )
        ]
    if unit == "percent" and distance is not None and distance >= 100:
        return [
            Problem(
                fields,
                f"{_q(labels, 'stop_distance')} of {_number(distance)} "
                f"{_q(labels, 'stop_unit')} percent puts the stop at or below a price of 0: "
                "at most 99.",
            )
        ]
    return []


def _break_even(own: Mapping[str, Any], labels: Labels) -> list[Problem]:
    trigger_name, offset_name = "break_even_trigger_ticks", "break_even_offset_ticks"
    fields = (trigger_name, offset_name)
    trigger, offset = own.get(trigger_name), own.get(offset_name)
    if offset is not None and trigger is None:
        return [
            Problem(
                fields,
                f"{_q(labels, offset_name)} is set but {_q(labels, trigger_name)} is empty: "
                "break-even is off without a trigger (the offset is not combined with another "
                "level's trigger). Enter a trigger, or clear the offset.",
            )
        ]
    if trigger is None:
        return []
    offset = 0 if offset is None else offset
    if offset >= trigger:
        return [
            Problem(
                fields,
                f"{_q(labels, offset_name)} ({offset}) must be below "
                f"{_q(labels, trigger_name)} ({trigger}): the stop would move to where the "
                "price is, or beyond it, when break-even triggers.",
            )
        ]
    return []


def _trailing(own: Mapping[str, Any], labels: Labels) -> list[Problem]:
    trigger_name, step_name = "trailing_trigger_ticks", "trailing_step_ticks"
    trigger, step = own.get(trigger_name), own.get(step_name)
    if (trigger is None) == (step is None):
        return []
    given, missing = (trigger_name, step_name) if step is None else (step_name, trigger_name)
    return [
        Problem(
            (trigger_name, step_name),
            f"{_q(labels, given)} is set but {_q(labels, missing)} is empty: trailing needs "
            "both (a step of 0 trails tick by tick). Fill in both, or clear both.",
        )
    ]


def _take_profits(
    own: Mapping[str, Any], effective: Effective, labels: Labels, *, sizes_vary: bool
) -> list[Problem]:
    if own.get("take_profits") is None and own.get("entry_size") is None:
        return []
    levels = effective("take_profits") or []
    entry = effective("entry_size")
    entry = 1 if entry is None else entry  # the documented default
    percent = sum(Decimal(lvl["qty"]) for lvl in levels if lvl.get("qty_unit") == "percent")
    contracts = sum(Decimal(lvl["qty"]) for lvl in levels if lvl.get("qty_unit") != "percent")
    if percent > 100:
        return [
            Problem(
                ("take_profits",),
                f"The take-profit levels close {_number(percent)} % of the position: more "
                "than 100 %. Lower a level's quantity.",
            )
        ]
    if sizes_vary or entry == 0 or contracts == 0:
        return []
    closed = contracts + Decimal(entry) * percent / 100
    if closed > entry:
        return [
            Problem(
                ("take_profits", "entry_size"),
                f"The take-profit levels close {_number(closed)} contracts but "
                f"{_q(labels, 'entry_size')} is {entry}: they add up to more than the entry. "
                "Lower the levels' quantities or raise the entry size (the last level always "
                "takes what is left).",
            )
        ]
    return []


def _cutoff(own: Mapping[str, Any], effective: Effective, labels: Labels) -> list[Problem]:
    if own.get("flatten_after_cutoff") is not True and own.get("time_windows") is None:
        return []
    if effective("flatten_after_cutoff") is True and not effective("time_windows"):
        return [
            Problem(
                ("flatten_after_cutoff", "time_windows"),
                f"{_q(labels, 'flatten_after_cutoff')} is on but there are no "
                f"{_q(labels, 'time_windows')}: there is no last window to flatten after. Add "
                "a window, or switch flattening off.",
            )
        ]
    return []


def settings_problems(
    *, own: Mapping[str, Any], effective: Effective, labels: Labels, sizes_vary: bool
) -> list[Problem]:
    """Contradictions among the settings, each naming every field involved.

    ``sizes_vary``: the alert's quantity may set the size, so an entry size says nothing
    about the position the take-profits split."""
    return [
        *_stop(own, labels),
        *_break_even(own, labels),
        *_trailing(own, labels),
        *_take_profits(own, effective, labels, sizes_vary=sizes_vary),
        *_cutoff(own, effective, labels),
    ]


def adds_never_happen(*, own: Mapping[str, Any], effective: Effective, labels: Labels) -> str:
    """A warning when an add size is given but signals in the same direction never add."""
    if own.get("add_size") is None and own.get("on_same_direction") is None:
        return ""
    same = effective("on_same_direction") or "ignore"
    if effective("add_size") is None or same == "add":
        return ""
    what = "are ignored" if same == "ignore" else "close and re-enter"
    return (
        f"{_q(labels, 'add_size')} is set, but signals in the same direction {what} "
        f"({_q(labels, 'on_same_direction')}): the add size is never used."
    )


def adds_blocked_by_cap(
    *, entry: int, multiplier: Decimal, max_contracts: int | None, account: str
) -> str:
    """A warning when the first entry already fills the account's max contracts, so "add"
    can never add there."""
    if max_contracts is None or max_contracts == 0:
        return ""
    first = int((Decimal(entry) * multiplier).to_integral_value(rounding=ROUND_HALF_UP))
    if first < max_contracts:
        return ""
    return (
        f"Adds are blocked on {account}: its max contracts ({max_contracts}) is reached by the "
        f"first entry ({first} contract{'s' if first != 1 else ''}), so a signal in the same "
        "direction adds nothing."
    )
