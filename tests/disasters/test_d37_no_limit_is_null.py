"""D37 -- migration default ``max_contracts=10`` capped everyone.

DISASTERS.md row D37:
    what happened: "migration default `max_contracts=10` capped everyone"
    invariant:     "\\"no limit\\" is null, not a number; defaults reviewed"
    proof:         "test"

A migration gave every account ``max_contracts=10`` and every larger order was silently cut.
"No limit" is ``None``: the engine's default, what `resolve` passes through from the
TraderAccount, and what `decide` treats as no cap at all. These tests fail if any numeric
default cap comes back.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker
from trading.engine import Action, Decision, decide
from trading.settings_resolution import (
    DEFAULTS,
    AlertOverrides,
    EffectiveSettings,
    SameDirection,
    SettingsLayer,
    resolve,
)


def test_the_default_is_no_cap() -> None:
    assert EffectiveSettings().max_contracts is None
    assert DEFAULTS.max_contracts is None
    # Reviewed defaults: no filter or limit is on unless someone sets it.
    assert DEFAULTS.cooldown_seconds is None
    assert DEFAULTS.max_signals_per_day is None
    assert DEFAULTS.max_daily_loss is None
    assert DEFAULTS.time_windows == ()


def test_resolve_passes_no_cap_through() -> None:
    settings = resolve(
        strategy=SettingsLayer(),
        trader=SettingsLayer(),
        alert=AlertOverrides(),
        allowed_overrides=frozenset(),
        multiplier=Decimal(1),
        max_contracts=None,
    )
    assert settings.max_contracts is None


@pytest.mark.parametrize("size", [10, 11, 25, 100])
def test_without_a_cap_every_size_goes_out_whole(size: int) -> None:
    """Up to the platform's safety ceiling (ORDER_QTY_CEILING, default 100 per order)."""
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(entry_size=size),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is not None
    assert plan.entry.qty == size


def test_over_the_platform_ceiling_is_refused_whole_never_silently_cut() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(entry_size=200),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is None and plan.decision is Decision.BLOCKED
    assert "200 contracts is over the platform's safety ceiling of 100" in plan.reason


def test_without_a_cap_adds_are_never_reduced() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(add_size=8, on_same_direction=SameDirection.ADD),
        broker=make_broker(12),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.ADD
    assert plan.entry is not None and plan.entry.qty == 8
    assert plan.target_position == 20


def test_a_set_cap_still_caps() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(entry_size=25, max_contracts=10),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is not None and plan.entry.qty == 10
    assert "max_contracts=10" in plan.reason
