"""Limits on how large an order can be (issue 9 §3), as a table over the pure engine.

- the platform's safety ceiling per order (``QtyCeiling``: ORDER_QTY_CEILING, per root
  ORDER_QTY_CEILING_BY_ROOT) refuses any entry, add or reversal's new side larger than it,
  with a reason naming the ceiling; closing is never refused; "no max contracts" stays "no cap
  of yours";
- a strategy's ``alert_quantity_max`` caps what an alert's quantity may ask for, like a cap,
  with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from trading.brokers.base import Side
from trading.contracts import CONTRACT_SPECS
from trading.engine import Action, Decision, Plan, decide
from trading.settings_resolution import (
    AlertOverrides,
    EffectiveSettings,
    OppositeDirection,
    QtyCeiling,
    SameDirection,
    SettingsLayer,
    order_qty_ceiling_for,
    order_qty_ceilings_parse,
    resolve,
)

ES_CEILING = QtyCeiling(100, "ES", "ORDER_QTY_CEILING")


def _decide(
    action: Action, *, position: int = 0, quantity: Decimal | None = None, **settings: object
) -> Plan:
    s = EffectiveSettings(**settings)  # type: ignore[arg-type]
    working = working_exits(7, 8) if position != 0 else ()
    return decide(
        alert=make_alert(action, quantity=quantity),
        settings=s,
        broker=make_broker(position, working=working),
        filters=NO_FILTERS,
        spec=ES,
    )


@dataclass(frozen=True)
class Row:
    name: str
    action: Action
    position: int
    quantity: Decimal | None
    settings: dict[str, object]
    decision: Decision
    entry: int | None  # the entry order's quantity, None = no entry
    flatten: bool
    reason: str  # a part of the reason the subscriber reads


ALERT_QTY = {"use_alert_quantity": True, "order_qty_ceiling": ES_CEILING}
ROWS = [
    Row(
        "alert quantity 10,000, no max contracts: refused by the ceiling",
        Action.BUY,
        0,
        Decimal(10_000),
        ALERT_QTY,
        Decision.BLOCKED,
        None,
        False,
        "not opening long: refused: 10000 contracts is over the platform's safety ceiling of "
        "100 per order for ES (ORDER_QTY_CEILING); from alert quantity 10000 x multiplier 1",
    ),
    Row(
        "exactly the ceiling goes out",
        Action.BUY,
        0,
        Decimal(100),
        ALERT_QTY,
        Decision.OPEN,
        100,
        False,
        "open long 100",
    ),
    Row(
        "the multiplier takes it over: refused (never reduced)",
        Action.SELL,
        0,
        Decimal(60),
        {**ALERT_QTY, "multiplier": Decimal(2)},
        Decision.BLOCKED,
        None,
        False,
        "refused: 120 contracts is over the platform's safety ceiling of 100",
    ),
    Row(
        "max contracts reduces first; what is left fits under the ceiling",
        Action.BUY,
        0,
        Decimal(150),
        {**ALERT_QTY, "max_contracts": 80},
        Decision.OPEN,
        80,
        False,
        "reduced to 80 by max_contracts=80",
    ),
    Row(
        "a per-root ceiling names its own variable",
        Action.BUY,
        0,
        None,
        {
            "entry_size": 60,
            "order_qty_ceiling": QtyCeiling(50, "ES", "ORDER_QTY_CEILING_BY_ROOT"),
        },
        Decision.BLOCKED,
        None,
        False,
        "ceiling of 50 per order for ES (ORDER_QTY_CEILING_BY_ROOT); from entry_size=60",
    ),
    Row(
        "an add over the ceiling is refused; the position and its exits stay",
        Action.BUY,
        3,
        Decimal(500),
        {**ALERT_QTY, "on_same_direction": SameDirection.ADD},
        Decision.BLOCKED,
        None,
        False,
        "not adding to the long 3: refused: 500 contracts",
    ),
    Row(
        "a reversal over the ceiling closes and does not open the other side",
        Action.SELL,
        3,
        Decimal(500),
        {**ALERT_QTY, "on_opposite_direction": OppositeDirection.REVERSE},
        Decision.CLOSE_OPPOSITE,
        None,
        True,
        "closed the long 3; not reversing to short: refused: 500 contracts",
    ),
    Row(
        "a re-entry over the ceiling does nothing",
        Action.BUY,
        3,
        Decimal(500),
        {**ALERT_QTY, "on_same_direction": SameDirection.REENTER},
        Decision.BLOCKED,
        None,
        False,
        "not re-entering the long 3: refused: 500 contracts",
    ),
    Row(
        "closing a position larger than the ceiling is never refused",
        Action.CLOSE,
        250,
        None,
        {"order_qty_ceiling": ES_CEILING},
        Decision.CLOSE,
        None,
        True,
        "closed the long 250",
    ),
    Row(
        "alert_quantity_max caps the alert's quantity, saying so",
        Action.BUY,
        0,
        Decimal(10),
        {**ALERT_QTY, "alert_quantity_max": 3, "multiplier": Decimal(2)},
        Decision.OPEN,
        6,
        False,
        "open long 6 (alert quantity 10 reduced to 3 by alert_quantity_max x multiplier 2 = 6)",
    ),
    Row(
        "alert_quantity_max caps before the ceiling is judged",
        Action.BUY,
        0,
        Decimal(10_000),
        {**ALERT_QTY, "alert_quantity_max": 20},
        Decision.OPEN,
        20,
        False,
        "alert quantity 10000 reduced to 20 by alert_quantity_max",
    ),
    Row(
        "an alert within alert_quantity_max is used as it is",
        Action.BUY,
        0,
        Decimal(2),
        {**ALERT_QTY, "alert_quantity_max": 3},
        Decision.OPEN,
        2,
        False,
        "open long 2 (alert quantity 2 x multiplier 1 = 2)",
    ),
    Row(
        "alert_quantity_max does not touch the entry size when the alert does not set it",
        Action.BUY,
        0,
        Decimal(10),
        {"entry_size": 5, "alert_quantity_max": 3},
        Decision.OPEN,
        5,
        False,
        "open long 5 (entry_size=5",
    ),
    Row(
        "no max contracts and a size under the ceiling: no cap of yours",
        Action.BUY,
        0,
        None,
        {"entry_size": 99},
        Decision.OPEN,
        99,
        False,
        "open long 99 (entry_size=99 x multiplier 1 = 99)",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_order_limits(row: Row) -> None:
    plan = _decide(row.action, position=row.position, quantity=row.quantity, **row.settings)
    assert plan.decision is row.decision, plan.reason
    assert (plan.entry.qty if plan.entry is not None else None) == row.entry, plan.reason
    assert plan.flatten is row.flatten
    assert row.reason in plan.reason
    if plan.entry is not None:
        assert plan.entry.side is (Side.BUY if row.action is Action.BUY else Side.SELL)
    if plan.decision is Decision.BLOCKED:
        assert plan.cancel_order_ids == ()  # a refused add leaves the exits working
        assert plan.target_position == row.position


def test_the_default_ceiling_is_100_contracts() -> None:
    plan = _decide(Action.BUY, quantity=Decimal(101), use_alert_quantity=True)
    assert plan.decision is Decision.BLOCKED
    assert "safety ceiling of 100 per order (ORDER_QTY_CEILING)" in plan.reason


def test_resolve_passes_the_ceiling_and_alert_max_through_untouched() -> None:
    ceiling = QtyCeiling(7, "MES", "ORDER_QTY_CEILING_BY_ROOT")
    settings = resolve(
        strategy=SettingsLayer(),
        trader=SettingsLayer(),
        alert=AlertOverrides(),
        allowed_overrides=frozenset(),
        multiplier=Decimal(1),
        max_contracts=None,
        alert_quantity_max=4,
        order_qty_ceiling=ceiling,
    )
    assert (settings.order_qty_ceiling, settings.alert_quantity_max) == (ceiling, 4)
    assert settings.max_contracts is None  # still no cap of the user's (D37)


ROOTS = frozenset(CONTRACT_SPECS)


def test_per_root_ceilings_are_read_from_text() -> None:
    assert order_qty_ceilings_parse("ES=50, mes=200,", known_roots=ROOTS) == {
        "ES": 50,
        "MES": 200,
    }
    assert order_qty_ceilings_parse("", known_roots=ROOTS) == {}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ES", "'ES' is not ROOT=CONTRACTS"),
        ("ES=0", "'ES=0' is not ROOT=CONTRACTS with a whole number of at least 1"),
        ("ES=1.5", "is not ROOT=CONTRACTS"),
        ("XYZ=5", "'XYZ' is not a known contract root"),
        ("ES=5,ES=6", "ES is given twice"),
    ],
)
def test_a_bad_per_root_ceiling_says_which_entry(text: str, words: str) -> None:
    with pytest.raises(ValueError) as error:
        order_qty_ceilings_parse(text, known_roots=ROOTS)
    assert words in str(error.value)


def test_the_ceiling_for_a_root_is_its_own_or_the_default() -> None:
    by_root = {"ES": 50}
    assert order_qty_ceiling_for("ES", default=100, by_root=by_root) == QtyCeiling(
        50, "ES", "ORDER_QTY_CEILING_BY_ROOT"
    )
    assert order_qty_ceiling_for("NQ", default=100, by_root=by_root) == QtyCeiling(
        100, "NQ", "ORDER_QTY_CEILING"
    )
    with pytest.raises(ValueError, match="at least 1"):
        QtyCeiling(0)
