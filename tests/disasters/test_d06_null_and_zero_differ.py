"""D06 -- NULL shown as a number in UI; wrong size.

DISASTERS.md row D06:
    what happened: "NULL shown as a number in UI; wrong size"
    invariant:     "null and 0 are different everywhere; forms round-trip exactly"
    proof:         "test"

This file holds the settings-resolution half: ``None`` (inherit / not set) and ``0`` resolve to
different things and lead to different decisions. A resolver that tests truthiness
(``trader.x or strategy.x``) turns a trader's 0 into the strategy's number, and a "no cap"
``None`` into a number -- these tests fail then. The UI half (forms round-trip null and 0
exactly) lands with the settings forms.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker
from trading.engine import Action, Decision, decide
from trading.settings_resolution import (
    AlertOverrides,
    EffectiveSettings,
    SettingsLayer,
    resolve,
)


def resolved(
    trader: SettingsLayer,
    *,
    max_contracts: int | None = None,
    strategy: SettingsLayer | None = None,
) -> EffectiveSettings:
    return resolve(
        strategy=strategy
        if strategy is not None
        else SettingsLayer(entry_size=3, cooldown_seconds=60),
        trader=trader,
        alert=AlertOverrides(),
        allowed_overrides=frozenset(),
        multiplier=Decimal(1),
        max_contracts=max_contracts,
    )


def test_trader_null_inherits_the_strategy_size() -> None:
    assert resolved(SettingsLayer(entry_size=None)).entry_size == 3


def test_trader_zero_is_zero_not_the_strategy_size() -> None:
    assert resolved(SettingsLayer(entry_size=0)).entry_size == 0


@pytest.mark.parametrize(
    ("trader_size", "decision", "qty"),
    [(None, Decision.OPEN, 3), (0, Decision.ZERO_QUANTITY, None)],
)
def test_null_and_zero_sizes_decide_differently(
    trader_size: int | None, decision: Decision, qty: int | None
) -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=resolved(SettingsLayer(entry_size=trader_size)),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is decision
    assert (plan.entry.qty if plan.entry is not None else None) == qty


def test_null_and_zero_cooldowns_differ() -> None:
    assert resolved(SettingsLayer(cooldown_seconds=None)).cooldown_seconds == 60
    assert resolved(SettingsLayer(cooldown_seconds=0)).cooldown_seconds == 0


def test_null_max_contracts_is_no_cap_and_zero_is_a_cap_of_zero() -> None:
    uncapped = resolved(SettingsLayer(), max_contracts=None)
    capped = resolved(SettingsLayer(), max_contracts=0)
    assert uncapped.max_contracts is None
    assert capped.max_contracts == 0
    alert, broker = make_alert(Action.BUY), make_broker(0)
    assert (
        decide(alert=alert, settings=uncapped, broker=broker, filters=NO_FILTERS, spec=ES).decision
        is Decision.OPEN
    )
    blocked = decide(alert=alert, settings=capped, broker=broker, filters=NO_FILTERS, spec=ES)
    assert blocked.decision is Decision.BLOCKED
    assert "max contracts" in blocked.reason
