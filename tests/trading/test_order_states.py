"""The Order state machine and its one owner (trading/order_states.py, trading/orders.py)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from tests.factories import SubaccountFactory
from trading.models import Order, OrderEvent
from trading.order_states import (
    IllegalOrderMove,
    order_accepted,
    order_fills_record,
    order_move,
    order_observe,
    state_for_status,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
STATES = [state for state, _ in Order.State.choices]


def a_row(state: str = Order.State.SUBMITTED, qty: int = 2) -> Order:
    subaccount = SubaccountFactory.create()
    return Order.objects.create(
        subaccount=subaccount,
        cl_ord_id=f"t-{subaccount.pk}-{state}",
        symbol="MNQZ6",
        side="Buy",
        qty=qty,
        order_type="Limit",
        role=Order.Role.TAKE_PROFIT,
        state=state,
    )


@pytest.mark.parametrize(("before", "after"), list(itertools.permutations(STATES, 2)))
def test_every_move_is_either_in_the_table_or_refused(before: str, after: str) -> None:
    row = a_row(before)
    if after in Order.TRANSITIONS[before]:
        order_move(row, after, words="broker text")
        row.refresh_from_db()
        assert row.state == after and row.state_changed_at is not None
        (event,) = OrderEvent.objects.filter(order=row)
        assert (event.from_state, event.to_state, event.broker_words) == (
            before,
            after,
            "broker text",
        )
    else:
        with pytest.raises(IllegalOrderMove):
            order_move(row, after)
        row.refresh_from_db()
        assert row.state == before and not OrderEvent.objects.filter(order=row).exists()


def test_final_states_have_no_way_out() -> None:
    for state in Order.FINAL_STATES:
        assert Order.TRANSITIONS[state] == frozenset()


def test_a_stale_report_changes_nothing_and_raises_nothing() -> None:
    row = a_row(Order.State.WORKING)
    assert order_observe(row, status="Filled", source="stream")
    assert not order_observe(row, status="Working", source="stream")  # replayed, older
    assert not order_observe(row, status="Filled", source="stream")  # the same twice
    row.refresh_from_db()
    assert row.state == "filled" and row.broker_status == "Filled"
    assert OrderEvent.objects.filter(order=row).count() == 1


def test_our_call_answering_after_the_stream_filled_the_order_leaves_it_filled() -> None:
    row = a_row(Order.State.SUBMITTED)
    order_observe(row, status="Filled", source="stream")
    order_accepted(row, broker_order_id=77)
    row.refresh_from_db()
    assert (row.state, row.broker_order_id) == ("filled", 77)


def test_a_stale_copy_in_memory_never_overwrites_what_the_stream_wrote() -> None:
    row = a_row(Order.State.SUBMITTED)
    stale = Order.objects.get(pk=row.pk)
    order_observe(row, status="Filled", source="stream")
    order_accepted(stale, broker_order_id=5)  # the executor's copy still says "submitted"
    assert stale.state == "filled"  # it comes back as the database has it


def test_fills_make_an_order_partly_filled_then_filled() -> None:
    row = a_row(Order.State.WORKING, qty=3)
    assert order_fills_record(row, filled_qty=1, avg_fill_price=None)
    assert row.state == "partially_filled"
    assert order_fills_record(row, filled_qty=3, avg_fill_price=None)
    assert row.state == "filled"


@pytest.mark.parametrize(
    ("status", "filled", "state"),
    [
        ("Working", 0, "working"),
        ("Working", 1, "partially_filled"),
        ("PendingCancel", 0, "cancel_pending"),
        ("Filled", 2, "filled"),
        ("Canceled", 0, "cancelled"),
        ("Rejected", 0, "rejected"),
        ("Expired", 0, "expired"),
        ("Unknown", 0, None),
    ],
)
def test_the_brokers_statuses(status: str, filled: int, state: str | None) -> None:
    assert state_for_status(status, qty=2, filled_qty=filled) == state


ORDER_CALLS = {
    "place_order",
    "place_oco",
    "place_bracket",
    "cancel_order",
    "modify_order",
    "flatten",
}
OWNERS = {"trading/order_states.py", "trading/orders.py", "trading/orders_copy.py"}


def test_only_the_lifecycle_modules_move_order_state_or_call_order_methods() -> None:
    """No other application module assigns ``.state`` of an Order, updates ``state=`` through
    a queryset, or calls the broker's order methods (the brokers package implements them)."""
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        name = str(path.relative_to(ROOT))
        if name.startswith(("tests/", "simulator/", ".venv/", "bench/", "trading/brokers/")):
            continue
        if name in OWNERS or "/migrations/" in name:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ORDER_CALLS and not (
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "self"
                ):
                    offenders.append(f"{name}:{node.lineno} calls .{node.func.attr}()")
                if (
                    node.func.attr == "update"
                    and any(k.arg == "state" for k in node.keywords)
                    and "Order" in ast.unparse(node.func.value)
                ):
                    offenders.append(f"{name}:{node.lineno} updates Order.state")
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "state":
                        text = ast.unparse(target.value)
                        if text in ("row", "order", "entry", "locked", "last"):
                            offenders.append(f"{name}:{node.lineno} sets {text}.state")
    assert offenders == []
