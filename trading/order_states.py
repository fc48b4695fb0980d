"""The one place an Order's state moves (with `trading.orders`, which makes the broker calls).

Every move goes through `order_move` (our own decision: an illegal move raises) or
`order_observe` (the broker's report: the stream, a look-up, a read). Each move is made on the
row locked in the database, so the executor, the streams process and reconciliation never
overwrite one another; each is stamped (`Order.state_changed_at`) and logged as an `OrderEvent`
with where it came from and the broker's own words.

The broker's reports may come late, twice or out of order (Tradovate replays events after a
reconnect and around its daily reset; the stream can say "Filled" before our own call has
returned). A report the state machine cannot reach from where the row is, is stale: it changes
nothing and raises nothing, so the same event twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.rows_update import rows_update
from trading.models import Order, OrderEvent

logger = logging.getLogger(__name__)

Source = OrderEvent.Source

# Tradovate's ordStatus -> our state. Working-like statuses become "partly filled" once some of
# the order has filled (`state_for_status`).
_STATUS_STATES: dict[str, str] = {
    "PendingNew": Order.State.SUBMITTED,
    "Working": Order.State.WORKING,
    "Suspended": Order.State.WORKING,
    "PendingReplace": Order.State.WORKING,
    "PendingCancel": Order.State.CANCEL_PENDING,
    "Filled": Order.State.FILLED,
    "Completed": Order.State.FILLED,
    "Canceled": Order.State.CANCELLED,
    "Cancelled": Order.State.CANCELLED,
    "Rejected": Order.State.REJECTED,
    "Expired": Order.State.EXPIRED,
}

# What a row carries over from its locked copy after a move.
_COPIED = (
    "state",
    "state_changed_at",
    "error",
    "broker_status",
    "broker_order_id",
    "broker_oco_id",
    "filled_qty",
    "avg_fill_price",
    "stop_price",
    "price",
    "qty",
    "contract_id",
    "updated_at",
)


_NOT_YET_AT_BROKER = frozenset({Order.State.CREATED, Order.State.SUBMITTED, Order.State.IN_DOUBT})


class IllegalOrderMove(ValueError):
    """Our own code asked for a move the state machine does not allow."""


def state_for_status(status: str, *, qty: int, filled_qty: int) -> str | None:
    """Our state for the broker's ``ordStatus`` (None for a status we do not map)."""
    state = _STATUS_STATES.get(status)
    if state == Order.State.WORKING and 0 < filled_qty < qty:
        return Order.State.PARTIALLY_FILLED
    return state


def order_move(
    row: Order,
    new_state: str,
    *,
    source: str = Source.CALL,
    words: str = "",
    error: str | None = None,
    **fields: Any,
) -> None:
    """Move ``row`` to ``new_state`` as our own code decided; ``IllegalOrderMove`` if the state
    machine does not allow it (a bug, never a broker's report). ``fields`` (broker id, prices)
    are written in the same locked update. ``row`` comes back as the database now has it."""
    _apply(row, new_state, strict=True, source=source, words=words, error=error, fields=fields)


def order_observe(
    row: Order,
    *,
    status: str = "",
    state: str | None = None,
    source: str,
    words: str = "",
    error: str | None = None,
    **fields: Any,
) -> bool:
    """Record what the broker reports of ``row``: its ``ordStatus`` (or our ``state`` for it)
    and any ``fields`` (broker id, filled quantity, prices). A report the row cannot reach
    (stale, replayed) leaves the state as it is. True when the state moved."""
    if status:
        fields["broker_status"] = status[:20]
    if state is None and status:
        filled = fields.get("filled_qty", row.filled_qty)
        state = state_for_status(status, qty=fields.get("qty", row.qty), filled_qty=filled)
    return _apply(row, state, strict=False, source=source, words=words, error=error, fields=fields)


def order_accepted(row: Order, *, broker_order_id: int | None, source: str = Source.CALL) -> None:
    """Our call placed ``row``: the broker's id (when it gave one) is recorded and the row is
    working, unless the stream has already moved it further (filled, cancelled): then that
    state stays."""
    _apply(
        row,
        Order.State.WORKING,
        strict=False,
        source=source,
        words="",
        error=None,
        fields={} if broker_order_id is None else {"broker_order_id": broker_order_id},
        only_from=_NOT_YET_AT_BROKER,
    )


def orders_accepted(accepted: Sequence[tuple[Order, int | None]]) -> None:
    """`order_accepted` for many rows at once: each ``(row, broker order id)``."""
    orders_observe_many(
        [
            (row, Order.State.WORKING, {} if order_id is None else {"broker_order_id": order_id})
            for row, order_id in accepted
        ],
        source=Source.CALL,
        only_from=_NOT_YET_AT_BROKER,
    )


def order_fills_record(
    row: Order, *, filled_qty: int, avg_fill_price: Decimal | None, source: str = Source.STREAM
) -> bool:
    """The row's filled quantity and average price, from its fills: partly filled while some
    is left, filled once all is. True when the state moved."""
    state: str | None = None
    if filled_qty >= row.qty:
        state = Order.State.FILLED
    elif filled_qty > 0 and row.state in (
        Order.State.SUBMITTED,
        Order.State.IN_DOUBT,
        Order.State.WORKING,
        Order.State.NEVER_PLACED,
    ):
        state = Order.State.PARTIALLY_FILLED
    return _apply(
        row,
        state,
        strict=False,
        source=source,
        words="",
        error=None,
        fields={"filled_qty": filled_qty, "avg_fill_price": avg_fill_price},
    )


def orders_observe_many(
    observations: Sequence[tuple[Order, str | None, dict[str, Any]]],
    *,
    source: str,
    only_from: frozenset[str] | None = None,
) -> None:
    """Record the broker's report of many rows at once (a fan-out's answers): each
    ``(row, state, fields)`` moves as `order_observe` would move it alone (stale reports
    change nothing), in one locking read, one update and one insert of events. ``only_from``:
    rows in another state keep it (as `order_accepted`). The rows come back as stored."""
    if not observations:
        return
    now = timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update().in_bulk([row.pk for row, _, _ in observations])
        events: list[OrderEvent] = []
        written: set[str] = set()
        dirty = []
        for row, state, fields in observations:
            copy = locked[row.pk]
            changed, event = _step(
                copy,
                state,
                strict=False,
                source=source,
                words="",
                error=None,
                fields=dict(fields),
                only_from=only_from,
                now=now,
            )
            if event is not None:
                events.append(event)
            if changed:
                copy.updated_at = now
                written.update(changed)
                dirty.append(copy)
        if dirty:
            rows_update(dirty, fields=[*sorted(written), "updated_at"])
        OrderEvent.objects.bulk_create(events)
    for row, _, _ in observations:
        for name in _COPIED:
            setattr(row, name, getattr(locked[row.pk], name))


def _apply(
    row: Order,
    new_state: str | None,
    *,
    strict: bool,
    source: str,
    words: str,
    error: str | None,
    fields: dict[str, Any],
    only_from: frozenset[str] | None = None,
) -> bool:
    now = timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=row.pk)
        changed, event = _step(
            locked,
            new_state,
            strict=strict,
            source=source,
            words=words,
            error=error,
            fields=fields,
            only_from=only_from,
            now=now,
        )
        if event is not None:
            event.save()
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    for name in _COPIED:
        setattr(row, name, getattr(locked, name))
    return event is not None


def _step(
    locked: Order,
    new_state: str | None,
    *,
    strict: bool,
    source: str,
    words: str,
    error: str | None,
    fields: dict[str, Any],
    only_from: frozenset[str] | None,
    now: datetime,
) -> tuple[list[str], OrderEvent | None]:
    """Move the locked row in memory: the names of the fields that changed, and the event of
    the move (None when the state stayed). Raises IllegalOrderMove for a strict move the state
    machine does not allow."""
    before = locked.state
    if only_from is not None and before not in only_from:
        new_state = None
    stale = new_state is not None and new_state not in Order.TRANSITIONS[before] | {before}
    if stale and not strict:  # an older report: its status is not the broker's latest
        fields = {k: v for k, v in fields.items() if k != "broker_status"}
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, fields[name])
    event = None
    if new_state is not None and new_state != before:
        if new_state in Order.TRANSITIONS[before]:
            locked.state = new_state
            locked.state_changed_at = now
            changed += ["state", "state_changed_at"]
            event = OrderEvent(
                order=locked,
                at=now,
                from_state=before,
                to_state=new_state,
                source=source,
                broker_words=words,
            )
        elif strict:
            raise IllegalOrderMove(
                f"order {locked.cl_ord_id}: {before} -> {new_state} is not allowed"
            )
        else:
            logger.debug(
                "order %s: %s report ignored (%s -> %s)",
                locked.cl_ord_id,
                source,
                before,
                new_state,
            )
    if error is not None and locked.error != error:
        locked.error = error
        changed.append("error")
    return list(dict.fromkeys(changed)), event
