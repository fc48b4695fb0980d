"""Replicating a leader's fill to its followers, by delta, concurrently, exactly once.

`fill_copy` is run by the ``copytrade.copy_fill`` task for each fill the mirror records on a
leader account. What it guarantees:

- Each leader fill is copied at most once per group: a `CopyEvent` is unique per (group,
  broker fill), and each follower's part a `CopyOutcome` unique per (event, follower). A
  redelivered task, a worker killed mid-way, or the broker replaying the fill never makes a
  follower trade twice: its order has a deterministic clOrdId (``cp<fill>-<follower>``) and its
  row is written before the call; a row left by an earlier run is looked up, never re-sent.
- Orders placed for copying never trigger copying (D28): a fill of an order that belongs to a
  copy outcome is recognised by our own Order rows and not copied.
- A follower is sent the DELTA between its target (the leader's net x ratio, or fixed, capped:
  `copytrade.sizing`) and what its broker account holds now, read under the follower
  position's lock (D33). So an add adds, a partial close partially closes, a reversal reverses,
  and a follower already at target is sent nothing.
- All followers of a group at once (D27/D32): a group costs a few broker round trips, not one
  per follower. The plain ones go per broker login (`copytrade.fanout`: one read per login,
  their rows in one insert, their orders sent at once, the leader read beside them); the
  others (a rerun, a busy position, a daily-loss limit to check, ...) each on its own thread
  (`copytrade.per_follower`), after them; FANOUT_BATCH=false sends every follower that way.
  One follower's failure never stops another; each says what failed in the broker's words.
- After its order, the follower's position is read again: not at target -> "drifted", with why.
- A worker killed mid-way stops renewing its event's lease; beat's sweep copies the fill again
  within seconds (``copy_events_without_worker``), which is safe for the reasons above. A
  follower whose order call went unanswered is "in doubt": the event stays unfinished and the
  sweep looks the order up again (never re-sent) for the in-doubt schedule's length.
- A fill older than ``COPY_MAX_FILL_AGE_SECONDS`` (recorded late, from a snapshot after a long
  gap) is not copied blind: the group's followers are compared instead and marked drifted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.redis import redis_key
from config.run_lease import run_lease, run_leases_lapsed
from copytrade.fanout import CopyBatch, event_copy_batch
from copytrade.models import CopyEvent, CopyGroup, CopyOutcome
from copytrade.per_follower import exits_follow, follower_sync
from trading.broker_view import position_read
from trading.brokers.services import broker_for
from trading.in_doubt import lookup_delays
from trading.models import Fill

logger = logging.getLogger(__name__)


def leading_groups(*, subaccount_pk: int) -> list[CopyGroup]:
    """The enabled copy groups ``subaccount_pk`` leads."""
    return list(
        CopyGroup.objects.filter(leader_id=subaccount_pk, enabled=True).select_related(
            "leader__connection"
        )
    )


def fill_copy(*, fill_pk: int) -> list[CopyEvent]:
    """Copy one recorded leader fill to every enabled follower of every enabled group its
    account leads (see the module's guarantees). Returns the events it worked on."""
    fill = Fill.objects.select_related("subaccount__connection", "order").get(pk=fill_pk)
    if fill.order is not None and fill.order.for_copy:
        return []  # D28: a fill of an order placed for copying never triggers copying
    events = []
    for group in leading_groups(subaccount_pk=fill.subaccount_id):
        event, _ = CopyEvent.objects.get_or_create(
            group=group, leader_fill=fill, defaults={"symbol": fill.symbol}
        )
        if event.finished_at is None:
            with run_lease(
                key=_lease_key(event.pk),
                ttl=settings.COPY_LEASE_SECONDS,
                what=f"copy event {event.pk}",
            ):
                event_carry_out(event=event)
        events.append(event)
    return events


def _lease_key(event_pk: int) -> str:
    return redis_key("copying", str(event_pk))


def copy_events_without_worker() -> list[int]:
    """Leader fills whose copy was begun and not finished, with no live worker on it (its
    lease lapsed: the worker was killed): the fills to copy again (safe: see the module)."""
    started_before = timezone.now() - timedelta(seconds=settings.COPY_LEASE_SECONDS)
    candidates = dict(
        CopyEvent.objects.filter(finished_at__isnull=True, received_at__lt=started_before)
        .values_list("pk", "leader_fill_id")
        .order_by("pk")
    )
    lapsed = set(run_leases_lapsed(keys=[_lease_key(pk) for pk in candidates]))
    return sorted({fill for pk, fill in candidates.items() if _lease_key(pk) in lapsed})


def event_carry_out(*, event: CopyEvent) -> None:
    """Read the leader's net position, and bring every follower to its target at once: the
    plain ones per broker login (`copytrade.fanout`), the others each on its own thread
    (`copytrade.per_follower`), then the followers' copies of the leader's exits."""
    group, fill = event.group, event.leader_fill
    followers = list(  # disarmed ones too: they are still reduced and closed with the leader
        group.followers.filter(enabled=True).select_related("subaccount__connection")
    )
    too_old = fill.filled_at < timezone.now() - timedelta(
        seconds=settings.COPY_MAX_FILL_AGE_SECONDS
    )
    CopyOutcome.objects.bulk_create(
        [CopyOutcome(event=event, follower=f) for f in followers], ignore_conflicts=True
    )
    outcomes = list(
        CopyOutcome.objects.filter(event=event, follower__in=followers)
        .exclude(status__in=(CopyOutcome.Status.DONE, CopyOutcome.Status.NOTHING))
        .select_related("follower__subaccount__connection")
    )
    for outcome in outcomes:
        outcome.event = event  # read by every thread below: loaded once
    if settings.FANOUT_BATCH:
        batch = event_copy_batch(event=event, outcomes=outcomes, compare_only=too_old)
    else:
        batch = CopyBatch(leader_net=_leader_net(event), left=outcomes)
    leader_net = batch.leader_net
    CopyEvent.objects.filter(pk=event.pk).update(leader_position=leader_net)
    jobs = [
        partial(follower_sync, outcome=o, leader_net=leader_net, compare_only=too_old)
        for o in batch.left
    ] + [partial(exits_follow, o, leader_net=leader_net) for o in batch.exits_follow]
    _on_threads(jobs, name=f"copy{event.pk}")
    in_doubt = CopyOutcome.objects.filter(event=event, status=CopyOutcome.Status.IN_DOUBT)
    looking_up = timezone.now() - event.received_at < timedelta(seconds=sum(lookup_delays()))
    if in_doubt.exists() and looking_up:
        return  # not finished: the sweep runs it again once its lease lapses (a look-up)
    CopyEvent.objects.filter(pk=event.pk).update(finished_at=timezone.now())


def _leader_net(event: CopyEvent) -> int:
    """The leader's net position on the event's contract, read at the broker."""
    leader = event.group.leader
    broker = broker_for(connection=leader.connection)
    try:
        return position_read(
            broker, account_id=leader.broker_account_id, symbol=event.symbol
        ).net_pos
    finally:
        broker.close()


def _on_threads(jobs: Sequence[Callable[[], None]], *, name: str) -> None:
    """Each job on its own thread (at most COPY_FOLLOWER_CONCURRENCY at once), each with its own
    database connection; one job's failure (recorded by the job) never stops another."""

    def one(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            logger.exception("copy: %s failed outside its own handling", job)
        finally:
            connection.close()

    if len(jobs) == 1:
        one(jobs[0])
    elif jobs:
        with ThreadPoolExecutor(
            max_workers=min(settings.COPY_FOLLOWER_CONCURRENCY, len(jobs)),
            thread_name_prefix=name,
        ) as pool:
            list(pool.map(one, jobs))
