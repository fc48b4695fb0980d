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
- All followers of a group at once, each on its own thread (D27/D32): a group costs about one
  broker round trip, not one per follower. One follower's failure never stops another; each
  says what failed in the broker's words.
- After its order, the follower's position is read again: not at target -> "drifted", with why.
- A worker killed mid-way stops renewing its event's lease; beat's sweep copies the fill again
  within seconds (``copy_events_without_worker``), which is safe for the reasons above. A
  follower whose order call went unanswered is "in doubt": the event stays unfinished and the
  sweep looks the order up again (never re-sent) for the in-doubt schedule's length.
- A fill older than ``COPY_MAX_FILL_AGE_SECONDS`` (recorded late, from a snapshot after a long
  gap) is not copied blind: the group's followers are compared instead and marked drifted.
"""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from config.redis import redis_key
from config.run_lease import run_lease, run_leases_lapsed
from copytrade.exits import exits_sync
from copytrade.models import CopyEvent, CopyGroup, CopyOutcome, ExitCopy, Follower
from copytrade.sizing import (
    Sizing,
    follower_contract,
    follower_delta,
    follower_target,
    reduce_only,
)
from copytrade.sync_state import follower_mark
from trading.broker_view import SafetyBlock, position_read, position_wait
from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerRejected,
)
from trading.brokers.services import broker_for
from trading.in_doubt import InDoubt, lookup_delays
from trading.models import Fill, Order
from trading.orders import order_cancel
from trading.orders_copy import copy_delta_place_once
from trading.position_lock import position_lock

logger = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30.0


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
    """Read the leader's net position once, then bring every follower to its target at once."""
    group, fill = event.group, event.leader_fill
    leader = group.leader
    broker = broker_for(connection=leader.connection)
    try:
        leader_net = position_read(
            broker, account_id=leader.broker_account_id, symbol=fill.symbol
        ).net_pos
    finally:
        broker.close()
    CopyEvent.objects.filter(pk=event.pk).update(leader_position=leader_net)
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

    def one(outcome: CopyOutcome) -> None:
        try:
            follower_sync(outcome=outcome, leader_net=leader_net, compare_only=too_old)
        except Exception:  # recorded by follower_sync; never stops another follower
            logger.exception("copy: follower %s failed outside its own handling", outcome.pk)
        finally:
            connection.close()

    if len(outcomes) == 1:
        one(outcomes[0])
    elif outcomes:
        with ThreadPoolExecutor(
            max_workers=min(settings.COPY_FOLLOWER_CONCURRENCY, len(outcomes)),
            thread_name_prefix=f"copy{event.pk}",
        ) as pool:
            list(pool.map(one, outcomes))
    in_doubt = CopyOutcome.objects.filter(event=event, status=CopyOutcome.Status.IN_DOUBT)
    looking_up = timezone.now() - event.received_at < timedelta(seconds=sum(lookup_delays()))
    if in_doubt.exists() and looking_up:
        return  # not finished: the sweep runs it again once its lease lapses (a look-up)
    CopyEvent.objects.filter(pk=event.pk).update(finished_at=timezone.now())


def follower_sync(*, outcome: CopyOutcome, leader_net: int, compare_only: bool = False) -> None:
    """Bring one follower to its target for ``leader_net`` (or, ``compare_only``, only say
    whether it is there), recorded on ``outcome`` and on the follower's sync state."""
    follower = _follower_of(outcome)
    subaccount = follower.subaccount
    now = timezone.now()
    CopyOutcome.objects.filter(pk=outcome.pk).update(started_at=now)
    try:
        contract = follower_contract(
            leader_symbol=outcome.event.symbol, symbol_map=follower.symbol_map or {}
        )
    except ValueError as exc:
        _finish(outcome, CopyOutcome.Status.FAILED, error=f"contract mapping: {exc}")
        return
    symbol = contract.tradovate_name
    sizing = Sizing(
        ratio=follower.ratio, fixed_qty=follower.fixed_qty, max_contracts=follower.max_contracts
    )
    group = outcome.event.group
    if leader_net == 0 and not group.flatten_when_leader_flat:
        _finish(outcome, CopyOutcome.Status.NOTHING, symbol=symbol, reason="leader flat: kept")
        return
    target = follower_target(leader_net=leader_net, sizing=sizing)
    try:
        with position_lock(subaccount=subaccount, symbol=symbol, timeout=LOCK_WAIT_SECONDS):
            broker = broker_for(connection=subaccount.connection)
            try:
                _sync_locked(broker, outcome, symbol=symbol, target=target, compare=compare_only)
            finally:
                broker.close()
    except TimeoutError:
        _finish(
            outcome,
            CopyOutcome.Status.FAILED,
            symbol=symbol,
            target=target,
            error=f"{subaccount.name} {symbol} was busy for {LOCK_WAIT_SECONDS:g} s (a signal "
            "or another copy held it): nothing sent; use Resync",
        )
    except InDoubt as exc:
        _finish(outcome, CopyOutcome.Status.IN_DOUBT, symbol=symbol, target=target, error=str(exc))
    except (BrokerError, SafetyBlock) as exc:
        _finish(outcome, CopyOutcome.Status.FAILED, symbol=symbol, target=target, error=str(exc))
        follower_mark(follower, Follower.SyncState.DRIFTED, f"the copy failed: {exc}")
        return
    if follower.copy_exits and not compare_only:
        _exits_follow(outcome, leader_net=leader_net)


def _exits_follow(outcome: CopyOutcome, *, leader_net: int) -> None:
    """After the follower's position changed: its copies of the leader's exits follow."""
    follower = _follower_of(outcome)
    try:
        done = exits_sync(
            follower=follower, leader_symbol=outcome.event.symbol, leader_net=leader_net
        )
    except Exception as exc:  # said on the outcome and the follower; the copy itself stands
        logger.warning("copy exits of follower %s: %s", follower.pk, exc)
        follower_mark(follower, Follower.SyncState.DRIFTED, f"exits not copied: {exc}")
        done = [f"the leader's exits could not be copied: {exc}"]
    if done:
        CopyOutcome.objects.filter(pk=outcome.pk).update(
            reason=Concat(F("reason"), Value("; " + "; ".join(done)))
        )


def _exit_copy_of_fill(outcome: CopyOutcome) -> ExitCopy | None:
    """The follower's copy of the leader exit whose fill this is, if it has one."""
    order_pk = outcome.event.leader_fill.order_id
    if order_pk is None:
        return None
    return (
        ExitCopy.objects.filter(follower=_follower_of(outcome), leader_order_id=order_pk)
        .select_related("follower_order")
        .order_by("-id")
        .first()
    )


def _own_exit_filled(
    broker: Broker, outcome: CopyOutcome, *, symbol: str, target: int
) -> int | None:
    """When the leader's fill came from an exit this follower copies, the follower's own copy
    does the same at its price: wait for it (no second, market, reduction); the position it
    reached, or None when its copy did not fill (then it is cancelled, never doubled)."""
    follower = _follower_of(outcome)
    copy = _exit_copy_of_fill(outcome)
    if copy is None:
        return None
    account_id = follower.subaccount.broker_account_id
    after = position_wait(
        broker, account_id=account_id, symbol=symbol, until=lambda pos: pos == target
    ).net_pos
    if after == target:
        return after
    row = copy.follower_order
    if row.broker_order_id is not None:
        with contextlib.suppress(BrokerRejected):  # it filled just now: the read below says so
            order_cancel(broker, subaccount=follower.subaccount, order_id=row.broker_order_id)
    return None


def _within_guard(broker: Broker, follower: Follower, *, target: int, held: int) -> int:
    """The target a follower may take: a disarmed one is only reduced (never added to); one
    whose daily loss limit is reached (the broker's realized P&L of today) is disarmed first,
    and said so."""
    adding = abs(target) > abs(held) or (target != 0 and held != 0 and (target > 0) != (held > 0))
    if follower.sync_state != Follower.SyncState.DISARMED and adding and follower.max_daily_loss:
        loss = broker.day_pnl(account_id=follower.subaccount.broker_account_id).realized_loss
        if loss >= follower.max_daily_loss:
            follower_mark(
                follower,
                Follower.SyncState.DISARMED,
                f"today's loss ${loss} reached its limit ${follower.max_daily_loss}: only closes "
                "are copied now; re-arm it to copy entries again",
            )
            follower.sync_state = Follower.SyncState.DISARMED
    if follower.sync_state == Follower.SyncState.DISARMED:
        return reduce_only(target=target, held=held)
    return target


def _sync_locked(
    broker: Broker, outcome: CopyOutcome, *, symbol: str, target: int, compare: bool
) -> None:
    follower = _follower_of(outcome)
    subaccount = follower.subaccount
    account_id = subaccount.broker_account_id
    held = position_read(broker, account_id=account_id, symbol=symbol).net_pos
    target = _within_guard(broker, follower, target=target, held=held)
    cl_ord_id = f"cp{outcome.event.leader_fill.broker_fill_id}-{follower.pk}"
    earlier = Order.objects.filter(cl_ord_id=cl_ord_id).exists()
    if not compare and not earlier and held != target and _exit_copy_of_fill(outcome):
        reached = _own_exit_filled(broker, outcome, symbol=symbol, target=target)
        if reached is not None:
            _finish(
                outcome,
                CopyOutcome.Status.DONE,
                symbol=symbol,
                target=target,
                held_before=held,
                delta=0,
                reason=f"its copy of the leader's exit filled: {held:+d} -> {reached:+d}",
            )
            follower_mark(follower, Follower.SyncState.IN_SYNC, "")
            return
        held = position_read(broker, account_id=account_id, symbol=symbol).net_pos
    delta = follower_delta(target=target, held=held)
    if compare or (delta == 0 and not earlier):
        drifted = delta != 0
        _finish(
            outcome,
            CopyOutcome.Status.NOTHING,
            symbol=symbol,
            target=target,
            held_before=held,
            delta=0,
            reason=(
                f"the leader's fill is too old to copy blind; {held:+d} held, target {target:+d}"
                if compare
                else f"already at target {target:+d}"
            ),
        )
        if drifted:
            follower_mark(
                follower, Follower.SyncState.DRIFTED, f"holds {held:+d}, target {target:+d}"
            )
        return
    if delta != 0 or earlier:
        row = copy_delta_place_once(
            broker, subaccount=subaccount, symbol=symbol, delta=delta, cl_ord_id=cl_ord_id
        )
        outcome.orders.add(row)
    after = position_wait(
        broker,
        account_id=account_id,
        symbol=symbol,
        until=lambda pos: pos == target,
    ).net_pos
    _finish(
        outcome,
        CopyOutcome.Status.DONE,
        symbol=symbol,
        target=target,
        held_before=held,
        delta=delta,
        reason=f"{held:+d} -> {after:+d} (target {target:+d})",
    )
    if after == target:
        follower_mark(follower, Follower.SyncState.IN_SYNC, "")
    else:
        follower_mark(
            follower,
            Follower.SyncState.DRIFTED,
            f"holds {after:+d} after the copy, target {target:+d}",
        )


def _follower_of(outcome: CopyOutcome) -> Follower:
    """The follower an outcome being worked on belongs to (only a removed follower's old log
    lines have none, and those are never worked on)."""
    follower = outcome.follower
    if follower is None:
        raise ValueError(f"copy outcome {outcome.pk} has no follower (removed)")
    return follower


def _finish(outcome: CopyOutcome, status: str, **fields: object) -> None:
    fields = {k: v for k, v in fields.items() if v is not None}
    CopyOutcome.objects.filter(pk=outcome.pk).update(
        status=status, finished_at=timezone.now(), **fields
    )
