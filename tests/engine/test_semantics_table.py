"""DESIGN.md §4, "What a signal means", as a table: every row, for BUY and for its SELL mirror.

| signal | position at the broker | setting | result |
|---|---|---|---|
| BUY | flat | — | open long: entry + exits |
| BUY | long | same = add | add the add-size; cancel the old exits, place exits for the whole position |
| BUY | long | same = ignore | nothing: "already long" |
| BUY | long | same = reenter | flatten (exits cancelled), then a fresh entry + exits: never stacked |
| BUY | short | opposite = reverse | cancel exits, close the short, then open long |
| BUY | short | opposite = close | cancel exits, close the short, say so |
| BUY | short | opposite = ignore | nothing: "opposite position open" |
| SELL | mirror of BUY | | |
| CLOSE | flat | — | nothing: "already flat" (never an entry) |
| CLOSE | long/short | — | cancel this subaccount's exits for the symbol, flatten |

Rows whose setting is "—" are checked under every combination of the two settings.
Sizes are chosen so every quantity is distinguishable: entry_size 2 and add_size 1 with
multiplier 3 give an entry of 6 and an add of 3; the open position is 4 contracts.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.engine import Action, Decision, decide
from trading.settings_resolution import (
    DistanceUnit,
    EffectiveSettings,
    OppositeDirection,
    QtyUnit,
    SameDirection,
    StopSetting,
    TakeProfitLevel,
)

WORKING_IDS = (101, 102, 103)
HELD = 4  # contracts in the open position
ENTRY = 6  # entry_size 2 x multiplier 3
ADD = 3  # add_size 1 x multiplier 3


@dataclass(frozen=True)
class Row:
    name: str
    action: Action
    position: int  # signed, before the signal
    same: SameDirection | None  # None = "—": every value
    opposite: OppositeDirection | None
    decision: Decision
    cancels: bool
    flatten: bool
    entry: tuple[Side, int] | None
    target: int


# The BUY half of the table (and CLOSE from long); `mirror` derives the SELL half.
BUY_ROWS = [
    Row("buy_flat_opens_long", Action.BUY, 0, None, None, Decision.OPEN, True, False,
        (Side.BUY, ENTRY), ENTRY),
    Row("buy_long_add_adds_the_add_size", Action.BUY, HELD, SameDirection.ADD, None,
        Decision.ADD, True, False, (Side.BUY, ADD), HELD + ADD),
    Row("buy_long_ignore_does_nothing", Action.BUY, HELD, SameDirection.IGNORE, None,
        Decision.IGNORED, False, False, None, HELD),
    Row("buy_long_reenter_flattens_then_enters_fresh", Action.BUY, HELD, SameDirection.REENTER,
        None, Decision.REENTER, True, True, (Side.BUY, ENTRY), ENTRY),
    Row("buy_short_reverse_closes_then_opens_long", Action.BUY, -HELD, None,
        OppositeDirection.REVERSE, Decision.REVERSE, True, True, (Side.BUY, ENTRY), ENTRY),
    Row("buy_short_close_closes_the_short", Action.BUY, -HELD, None, OppositeDirection.CLOSE,
        Decision.CLOSE_OPPOSITE, True, True, None, 0),
    Row("buy_short_ignore_does_nothing", Action.BUY, -HELD, None, OppositeDirection.IGNORE,
        Decision.IGNORED, False, False, None, -HELD),
    Row("close_flat_does_nothing", Action.CLOSE, 0, None, None, Decision.IGNORED, False, False,
        None, 0),
    Row("close_long_cancels_exits_and_flattens", Action.CLOSE, HELD, None, None, Decision.CLOSE,
        True, True, None, 0),
]  # fmt: skip


def mirror(row: Row) -> Row:
    action = {Action.BUY: Action.SELL, Action.SELL: Action.BUY}.get(row.action, row.action)
    name = row.name.replace("buy_", "sell_", 1).replace("long", "LONG").replace("short", "long")
    entry = None if row.entry is None else (row.entry[0].opposite, row.entry[1])
    return Row(
        name=name.replace("LONG", "short"),
        action=action,
        position=-row.position,
        same=row.same,
        opposite=row.opposite,
        decision=row.decision,
        cancels=row.cancels,
        flatten=row.flatten,
        entry=entry,
        target=-row.target,
    )


ROWS = BUY_ROWS + [
    mirror(row) for row in BUY_ROWS if row.position != 0 or row.action != Action.CLOSE
]


def cases() -> list[object]:
    out: list[object] = []
    for row in ROWS:
        sames = [row.same] if row.same is not None else list(SameDirection)
        opposites = [row.opposite] if row.opposite is not None else list(OppositeDirection)
        for same, opposite in itertools.product(sames, opposites):
            out.append(pytest.param(row, same, opposite, id=f"{row.name}-{same}-{opposite}"))
    return out


def test_the_table_has_every_row_in_both_directions() -> None:
    names = {row.name for row in ROWS}
    assert len(ROWS) == 17  # 7 BUY rows + 7 SELL mirrors + CLOSE flat, long, short
    assert "sell_short_add_adds_the_add_size" in names
    assert "sell_long_reverse_closes_then_opens_short" in names
    assert "close_short_cancels_exits_and_flattens" in names


@pytest.mark.parametrize(("row", "same", "opposite"), cases())
def test_semantics_table(row: Row, same: SameDirection, opposite: OppositeDirection) -> None:
    settings = EffectiveSettings(
        entry_size=2,
        add_size=1,
        multiplier=Decimal(3),
        on_same_direction=same,
        on_opposite_direction=opposite,
        take_profits=(
            TakeProfitLevel(Decimal(8), DistanceUnit.TICKS, Decimal(100), QtyUnit.PERCENT),
        ),
        stop=StopSetting(Decimal(12), DistanceUnit.TICKS),
    )
    broker = make_broker(row.position, working=working_exits(*WORKING_IDS))

    plan = decide(
        alert=make_alert(row.action), settings=settings, broker=broker, filters=NO_FILTERS, spec=ES
    )

    assert plan.decision is row.decision
    assert plan.cancel_order_ids == (WORKING_IDS if row.cancels else ())
    assert plan.flatten is row.flatten
    if row.entry is None:
        assert plan.entry is None
        assert plan.exits is None
    else:
        assert plan.entry is not None
        assert (plan.entry.side, plan.entry.qty) == row.entry
        assert plan.exits is not None, "an entry always comes with its exits"
    assert plan.target_position == row.target
    assert re.search(r"[a-z]+ [a-z]+", plan.reason), plan.reason


@pytest.mark.parametrize(
    ("position", "expected"),
    [(HELD, "already long"), (-HELD, "already short"), (0, "already flat")],
)
def test_ignored_rows_say_why_in_the_trader_words(position: int, expected: str) -> None:
    action = Action.CLOSE if position == 0 else (Action.BUY if position > 0 else Action.SELL)
    plan = decide(
        alert=make_alert(action),
        settings=EffectiveSettings(on_same_direction=SameDirection.IGNORE),
        broker=make_broker(position),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.IGNORED
    assert expected in plan.reason


def test_opposite_ignore_says_an_opposite_position_is_open() -> None:
    plan = decide(
        alert=make_alert(Action.SELL),
        settings=EffectiveSettings(on_opposite_direction=OppositeDirection.IGNORE),
        broker=make_broker(2),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.IGNORED
    assert "opposite position open" in plan.reason
