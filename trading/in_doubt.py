"""Orders whose call went unanswered: looked up by clOrdId until the broker says, never
abandoned and never sent twice (issue 9: "a broker call that times out leaves a position with
no stop").

An order call that times out (or whose answer is lost) may have been carried out anyway. Its
row moves to ``in_doubt``; the outcome becomes ``in doubt`` (not failed) and is executed again
on the look-up schedule (``IN_DOUBT_LOOKUP_DELAYS_SECONDS``, a few minutes in all), then on every
sweep. Each run looks the in-doubt orders up by clOrdId before anything else:
- found: the row gets the broker's id and state, and the outcome carries on from its stored
  decision (an entry found filled gets its exits, with the same clOrdIds: nothing twice);
- not found while the schedule lasts: still in doubt, nothing re-sent (it may yet arrive);
- not found when the schedule is over: ``never_placed``. An entry is then not sent again (the
  signal is minutes old): the outcome says the entry never reached the broker. An exit is sent
  again under a new clOrdId, so a position is never left without its stop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trading.brokers.base import Broker, BrokerError, KnownOrder
from trading.models import Order, Signal, SignalOutcome
from trading.order_states import Source, order_move, order_observe, state_for_status

logger = logging.getLogger(__name__)


# The broker's ordStatus -> our Order state.
class InDoubt(Exception):
    """What was sent for this outcome is not known yet: look it up later, send nothing twice."""


def lookup_delays() -> tuple[float, ...]:
    return tuple(float(d) for d in settings.IN_DOUBT_LOOKUP_DELAYS_SECONDS)


def lookups_exhausted(outcome: SignalOutcome) -> bool:
    """True once every look-up of the schedule has run for this outcome."""
    return outcome.lookups >= len(lookup_delays())


def next_lookup_in(outcome: SignalOutcome) -> float:
    """Seconds until the next look-up: the schedule's step for this outcome, then its last."""
    delays = lookup_delays()
    return delays[min(outcome.lookups, len(delays) - 1)]


def order_settle_by_lookup(
    broker: Broker, row: Order, *, account_id: int, known: KnownOrder | None = None
) -> bool:
    """Ask the broker for ``row``'s clOrdId; if it has the order, record its id and state on the
    row and return True. False when the broker has no such order (yet)."""
    if known is None:
        known = broker.order_lookup(account_id=account_id, cl_ord_id=row.cl_ord_id)
    if known is None:
        return False
    order_settle(row, order_id=known.order_id, status=known.status)
    return True


def order_settle(row: Order, *, order_id: int, status: str) -> None:
    """Record what the broker says of ``row``: its id and its state (a status we do not map
    counts as working; the broker's own word is kept on the row)."""
    state = state_for_status(status, qty=row.qty, filled_qty=row.filled_qty)
    order_observe(
        row,
        status=status,
        state=state or Order.State.WORKING,
        source=Source.LOOKUP,
        broker_order_id=order_id,
    )


def order_mark_in_doubt(*rows: Order, error: BaseException) -> None:
    for row in rows:
        if row.state in (Order.State.SUBMITTED, Order.State.CREATED):
            if row.state == Order.State.CREATED:
                order_move(row, Order.State.SUBMITTED)
            order_move(row, Order.State.IN_DOUBT, error=str(error))


def order_mark_never_placed(row: Order, *, lookups: int) -> None:
    order_move(
        row,
        Order.State.NEVER_PLACED,
        source=Source.LOOKUP,
        error=f"the broker has no order {row.cl_ord_id} after {lookups} look-ups over "
        f"{sum(lookup_delays()):.0f} s",
    )


def outcome_mark_in_doubt(outcome: SignalOutcome, *, error: BaseException) -> None:
    """The outcome waits for the broker: status ``in doubt`` with why, and the next look-up
    scheduled (after commit). Never "failed" while something sent may be working."""
    cause = error.__cause__ if isinstance(error, InDoubt) and error.__cause__ else error
    now = timezone.now()
    outcome.status = SignalOutcome.Status.IN_DOUBT
    outcome.in_doubt_since = outcome.in_doubt_since or now
    outcome.finished_at = now  # the last attempt, for the sweep
    outcome.error_type = type(cause).__name__
    outcome.error_message = str(cause)
    if isinstance(cause, BrokerError):
        outcome.broker_response = cause.broker_text
    delay = next_lookup_in(outcome)
    outcome.reason = (
        f"in doubt: {error}. Looking it up at the broker by its client order id (next in "
        f"{delay:.0f} s); nothing is sent twice"
    )
    outcome.save()
    outcome_id = outcome.pk

    def schedule() -> None:
        from trading.tasks import settle_in_doubt

        settle_in_doubt.apply_async((outcome_id,), countdown=delay)

    transaction.on_commit(schedule)


def outcome_lookup_counted(*, outcome_id: int) -> bool:
    """Count one look-up round for an in-doubt outcome; False if it is no longer in doubt."""
    return bool(
        SignalOutcome.objects.filter(pk=outcome_id, status=SignalOutcome.Status.IN_DOUBT).update(
            lookups=F("lookups") + 1
        )
    )


def outcomes_in_doubt_overdue(*, grace_seconds: float = 30.0) -> list[int]:
    """In-doubt outcomes whose scheduled look-up is late by more than ``grace_seconds`` (its
    task was lost: a worker died, Redis restarted). The sweep runs them again."""
    now = timezone.now()
    overdue = []
    for outcome in SignalOutcome.objects.filter(status=SignalOutcome.Status.IN_DOUBT).only(
        "pk", "lookups", "finished_at"
    ):
        last = outcome.finished_at or now
        if now - last > timedelta(seconds=next_lookup_in(outcome) + grace_seconds):
            overdue.append(outcome.pk)
    return overdue


# --- the signal's lease: proof that a live worker is executing it ---------------------------


def _lease_key(signal_id: int) -> str:
    from config.redis import redis_key

    return redis_key("executing", str(signal_id))


@contextmanager
def signal_lease(*, signal_id: int) -> Iterator[None]:
    """While the block runs, a Redis key says this signal has a live executor (renewed every
    third of ``SIGNAL_LEASE_SECONDS``). A killed worker stops renewing it: the sweep resumes
    the signal within seconds instead of waiting for a fixed age."""
    from config.run_lease import run_lease

    with run_lease(
        key=_lease_key(signal_id), ttl=settings.SIGNAL_LEASE_SECONDS, what=f"signal {signal_id}"
    ):
        yield


def signals_without_executor() -> list[int]:
    """Signals still executing whose lease has lapsed: their worker is gone."""
    from config.run_lease import run_leases_lapsed

    started_before = timezone.now() - timedelta(seconds=settings.SIGNAL_LEASE_SECONDS)
    candidates = list(
        Signal.objects.filter(
            status=Signal.Status.EXECUTING, started_at__lt=started_before
        ).values_list("pk", flat=True)
    )
    if not candidates:
        return []
    lapsed = set(run_leases_lapsed(keys=[_lease_key(pk) for pk in candidates]))
    return [pk for pk in candidates if _lease_key(pk) in lapsed]
