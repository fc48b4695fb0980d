"""The user stream mirrored: real events from the simulator's user WebSocket applied to the
database with `mirror_apply`, twice (idempotent), and the snapshot's reconciliation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.brokers.streams import demo_token, make_socket, run_sockets
from tests.signals.helpers import (
    only_outcome,
    outside_order,
    position,
    send,
    sim_post,
    working,
)
from trading.brokers.tradovate.ws import StreamEvent
from trading.mirror import mirror_apply
from trading.models import (
    Fill,
    Order,
    OrderEvent,
    Position,
    SignalOutcome,
    Strategy,
    Trader,
    TraderAccount,
)

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


def stream_events(sim: Any, *, during: Any, until: Any) -> list[StreamEvent]:
    """The user stream of the simulator's demo login: its snapshot, then what ``during``
    makes happen, until ``until(events)`` holds."""
    events: list[StreamEvent] = []
    socket = make_socket(sim.ws_url, demo_token(sim.rest_url), events=events)
    run_sockets([socket], until=lambda: until(events), timeout=20, during=during)
    return events


def apply_all(connection_pk: int, events: list[StreamEvent]) -> None:
    for event in events:
        mirror_apply(connection_pk=connection_pk, event=event)


def flat_reported(events: list[StreamEvent]) -> bool:
    return any(
        e.entity_type == "position" and e.entity.get("netPos") == 0 and e.event_type != "Snapshot"
        for e in events
    )


def mirror_state() -> tuple[Any, ...]:
    return (
        sorted(Order.objects.values_list("cl_ord_id", "state", "filled_qty", "avg_fill_price")),
        sorted(Fill.objects.values_list("broker_fill_id", "qty", "price")),
        sorted(Position.objects.values_list("contract_id", "net_pos", "realized_pnl")),
        OrderEvent.objects.count(),
    )


def test_a_take_profit_fill_turns_its_row_filled_and_its_stop_cancelled_and_twice_changes_nothing(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    connection_pk = trader_account.subaccount.connection_id
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    events = stream_events(sim, during=lambda: sim.control.step(SYMBOL, 20), until=flat_reported)
    assert events[0].entity_type == "sync"

    apply_all(connection_pk, events)

    rows = {row.role: row for row in Order.objects.filter(outcome=outcome)}
    entry, take_profit, stop = rows["entry"], rows["take_profit"], rows["stop"]
    assert (entry.state, entry.filled_qty, entry.avg_fill_price) == ("filled", 1, Decimal("20000"))
    assert (take_profit.state, take_profit.filled_qty) == ("filled", 1)
    assert take_profit.avg_fill_price == Decimal("20005")  # 20 ticks of 0.25 above
    assert stop.state == "cancelled"
    assert stop.events.filter(source="stream", to_state="cancelled").count() == 1
    assert Fill.objects.filter(subaccount=trader_account.subaccount).count() == 2
    (held,) = Position.objects.filter(subaccount=trader_account.subaccount)
    assert (held.symbol, held.net_pos) == (SYMBOL, 0)
    assert held.realized_pnl == Decimal("10.00")  # 5 points x $2
    assert position(sim) == 0 and working(sim) == []

    before = mirror_state()
    apply_all(connection_pk, events)  # a replay (reconnect, daily reset): nothing changes
    assert mirror_state() == before


def test_an_order_placed_by_hand_is_recorded_as_external_never_as_ours(
    trader_account: TraderAccount, sim: Any
) -> None:
    sim.control.set_price(SYMBOL, 20000)
    events = stream_events(
        sim,
        during=lambda: outside_order(sim, "Sell", 2),
        until=lambda ev: any(e.entity_type == "fill" for e in ev),
    )
    apply_all(trader_account.subaccount.connection_id, events)

    (row,) = Order.objects.all()
    assert row.external and row.role == Order.Role.EXTERNAL
    assert (row.side, row.qty, row.state, row.filled_qty) == ("Sell", 2, "filled", 2)
    assert row.outcome_id is None and row.signal_id is None
    (held,) = Position.objects.all()
    assert held.net_pos == -2


def test_the_snapshot_settles_an_order_in_doubt_by_its_clordid(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    entry = Order.objects.get(outcome=outcome, role=Order.Role.ENTRY)
    broker_id = entry.broker_order_id
    # As a lost answer leaves it: sent, no id, in doubt (set up directly).
    Order.objects.filter(pk=entry.pk).update(state="in_doubt", broker_order_id=None)

    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(trader_account.subaccount.connection_id, events[:1])

    entry.refresh_from_db()
    assert (entry.state, entry.broker_order_id) == ("filled", broker_id)
    (move,) = entry.events.filter(from_state="in_doubt")
    assert (move.from_state, move.to_state, move.source) == ("in_doubt", "filled", "reconcile")


def test_reconciliation_cancels_our_exits_left_working_on_a_flat_position(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    outside_order(sim, "Sell", 1)  # closed by hand: our take-profit and stop stay working
    assert position(sim) == 0 and len(working(sim)) == 2

    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(trader_account.subaccount.connection_id, events[:1])

    assert working(sim) == []  # the broker's state, not only ours
    exits = Order.objects.filter(outcome=outcome, role__in=("take_profit", "stop"))
    assert {row.state for row in exits} <= {"cancel_pending", "cancelled"}
    outcome.refresh_from_db()
    assert "cancelled: the position is flat" in outcome.reason


def test_a_failed_cancel_of_exits_on_a_flat_position_is_said_on_the_signal(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    outside_order(sim, "Sell", 1)  # closed by hand: our take-profit and stop stay working
    sim.control.faults(http_5xx={"count": 10, "status": 503, "endpoints": ["order/cancelorder"]})

    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(trader_account.subaccount.connection_id, events[:1])

    assert len(working(sim)) == 2  # the broker refused: both still work there
    outcome.refresh_from_db()
    assert "is still working on a flat position: the cancel failed" in outcome.reason
    assert "503" in outcome.reason  # the broker's own answer, not "Unknown error"


def test_a_position_whose_stop_was_cancelled_at_the_broker_is_flagged(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    Strategy.objects.filter(pk=strategy.pk).update(take_profits=[])
    strategy.refresh_from_db()
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    stop = Order.objects.get(outcome=outcome, role=Order.Role.STOP)
    cancel_by_hand(sim, stop.broker_order_id)

    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(trader_account.subaccount.connection_id, events[:1])

    (held,) = Position.objects.exclude(net_pos=0)
    assert held.problem.startswith("No stop at the broker: the stop placed by signal #")
    outcome = SignalOutcome.objects.get(pk=outcome.pk)
    assert "No stop at the broker" in outcome.reason
    assert position(sim) == 1  # flagged, not closed: restoring exits is the trader's choice


def cancel_by_hand(sim: Any, order_id: int | None) -> None:
    sim_post(sim, "order/cancelorder", {"orderId": order_id})


def test_with_restore_missing_exits_on_a_cancelled_stop_is_placed_again(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    Strategy.objects.filter(pk=strategy.pk).update(take_profits=[])
    Trader.objects.filter(pk=trader_account.trader_id).update(restore_missing_exits=True)
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))
    stop = Order.objects.get(outcome=outcome, role=Order.Role.STOP)
    cancel_by_hand(sim, stop.broker_order_id)
    assert working(sim) == []

    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(trader_account.subaccount.connection_id, events[:1])

    (again,) = working(sim)  # at the broker: one stop, same price, whole position
    restored = Order.objects.get(outcome=outcome, cl_ord_id=f"{stop.cl_ord_id}-re1")
    assert (restored.state, restored.broker_order_id) == ("working", again["id"])
    assert restored.stop_price == stop.stop_price and restored.qty == 1
    assert Position.objects.get(net_pos=1).problem == ""
    outcome = SignalOutcome.objects.get(pk=outcome.pk)
    assert "placed again at" in outcome.reason

    apply_all(trader_account.subaccount.connection_id, events[:1])  # the next reconciliation
    assert len(working(sim)) == 1  # never a second one


def test_a_contract_id_is_named_within_its_own_environment_only(settings: Any) -> None:
    """Each simulator numbers its contracts as they are first traded, and Tradovate demo and
    live keep their own ids: a name cached for one must never name another's contract (a
    copy once went to MES because another simulator's id 1 was MES)."""
    from accounts.models import BrokerConnection
    from trading.mirror import _contract_key

    sim, demo, live = (
        BrokerConnection(broker=kind) for kind in ("simulator", "tradovate_demo", "tradovate_live")
    )
    settings.SIMULATOR_URL = "http://127.0.0.1:8100"
    first = _contract_key(sim, 1)
    settings.SIMULATOR_URL = "http://127.0.0.1:8101"
    assert len({first, _contract_key(sim, 1), _contract_key(demo, 1), _contract_key(live, 1)}) == 4
