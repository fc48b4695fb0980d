"""D17 -- DCA off got 1 contract instead of 3 (two layers, stale position).

DISASTERS.md row D17:
    what happened: "DCA off got 1 contract instead of 3 (two layers, stale position)"
    invariant:     "one decision point, fed the broker's position read at decision time"
    proof:         "test"

Two layers each decided part of the signal, one of them from a stale position record, and the
entry came out as 1 contract instead of the trader's 3. Here `decide` is the only decision
point and the only position it sees is the broker's (``BrokerView``); our database's state
(``FilterState``) cannot carry a position at all. Exits are priced for the whole broker
position from the broker's average price.

Unit half; the end-to-end half (webhook -> worker -> simulator) lands with the executor.
"""

from __future__ import annotations

import ast
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.engine import ES, NOON_UTC, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.engine import Action, Decision, FilterState, decide
from trading.engine_exits import exits_for
from trading.settings_resolution import (
    DistanceUnit,
    EffectiveSettings,
    QtyUnit,
    SameDirection,
    StopSetting,
    TakeProfitLevel,
)

ENGINE_FILES = [
    Path(__file__).resolve().parents[2] / "trading" / name
    for name in ("engine.py", "engine_exits.py", "engine_stops.py", "settings_resolution.py")
]
DCA_OFF = EffectiveSettings(
    entry_size=3,
    add_size=1,
    on_same_direction=SameDirection.IGNORE,
    take_profits=(TakeProfitLevel(Decimal(8), DistanceUnit.TICKS, Decimal(100), QtyUnit.PERCENT),),
    stop=StopSetting(Decimal(12), DistanceUnit.TICKS),
)
# Our records say a position was opened a minute ago; the broker says flat. The broker wins.
STALE_RECORDS = FilterState(
    entries_today=1, last_entry_at=NOON_UTC - timedelta(minutes=1), realized_loss_today=Decimal(0)
)


def test_flat_at_the_broker_opens_the_full_entry_size_whatever_our_records_say() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=DCA_OFF,
        broker=make_broker(0),
        filters=STALE_RECORDS,
        spec=ES,
    )
    assert plan.decision is Decision.OPEN
    assert plan.entry is not None
    assert (plan.entry.side, plan.entry.qty) == (Side.BUY, 3)
    assert plan.target_position == 3


def test_long_at_the_broker_with_dca_off_places_nothing() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=DCA_OFF,
        broker=make_broker(3, working=working_exits(7, 8)),
        filters=STALE_RECORDS,
        spec=ES,
    )
    assert plan.decision is Decision.IGNORED
    assert plan.entry is None
    assert plan.cancel_order_ids == ()
    assert plan.target_position == 3


@pytest.mark.parametrize("position", [-5, -1, 0, 1, 5])
def test_the_decision_follows_the_broker_position_only(position: int) -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE),
        settings=DCA_OFF,
        broker=make_broker(position),
        filters=STALE_RECORDS,
        spec=ES,
    )
    assert plan.flatten is (position != 0)


def test_database_state_cannot_carry_a_position() -> None:
    names = {f.name for f in fields(FilterState)}
    assert names == {"entries_today", "last_entry_at", "realized_loss_today"}


def test_exits_cover_the_whole_broker_position_from_its_average_price() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(
            entry_size=3,
            add_size=3,
            on_same_direction=SameDirection.ADD,
            take_profits=DCA_OFF.take_profits,
            stop=DCA_OFF.stop,
        ),
        broker=make_broker(3, net_price=Decimal("5000"), working=working_exits(7, 8)),
        filters=STALE_RECORDS,
        spec=ES,
    )
    assert plan.decision is Decision.ADD
    assert plan.cancel_order_ids == (7, 8)
    assert plan.exits is not None
    # The broker now reports long 6 at 5001.125 (the average of both fills).
    exits = exits_for(rule=plan.exits, net_pos=6, net_price=Decimal("5001.125"), spec=ES)
    assert [(tp.qty, tp.price) for tp in exits.take_profits] == [(6, Decimal("5003.25"))]
    assert exits.stop is not None
    assert (exits.stop.qty, exits.stop.price) == (6, Decimal("4998.00"))


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_the_engine_is_pure(path: Path) -> None:
    """No ORM, no Django, no I/O, no clock: nothing but its arguments can feed a decision."""
    tree = ast.parse(path.read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            imported.add(node.module)
    allowed_prefixes = (
        "__future__",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "typing",
        "zoneinfo",
        "trading.contracts",
        "trading.brokers.base",
        "trading.settings_resolution",
        "trading.engine",  # its own modules (engine_exits, engine_stops), each checked here
        "collections.abc",
    )
    assert all(name.startswith(allowed_prefixes) for name in imported), imported
    clock_or_io = {"now", "utcnow", "today", "time_ns", "open", "urlopen", "sleep"}
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
    }
    assert not called & clock_or_io, called & clock_or_io
