"""One follower brought to its target for one leader fill, on its own (the per-follower path).

`copytrade.replication.event_carry_out` runs it, on a thread pool, for every follower the
per-login batch (`copytrade.fanout`) does not carry out: a fill too old to copy blind, a
contract that does not map, a rerun (the follower's order row exists: it is looked up, never
re-sent), a fill of the leader's exit this follower copies, a daily-loss limit to check at the
broker, a position lock held elsewhere (waited for here). What it guarantees:

- The follower's position is read under its position lock; only the delta to its target is
  sent (D33), under the deterministic clOrdId ``cp<fill>-<follower>`` (`copy_cl_ord_id`), its
  row written before the call (`trading.orders_copy.copy_delta_place_once`).
- Each failure is said on the outcome in the broker's words; the follower's sync state says
  where it ended (in sync, drifted with why, disarmed at its daily-loss limit).
"""

from __future__ import annotations

import contextlib
import logging

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from copytrade.exits import exits_sync
from copytrade.models import CopyOutcome, ExitCopy, Follower
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
from trading.in_doubt import InDoubt
from trading.models import Fill, Order
from trading.orders import order_cancel
from trading.orders_copy import copy_delta_place_once
from trading.position_lock import position_lock

logger = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30.0


# The copy log's words, the same on both paths.
LEADER_FLAT_KEPT = "leader flat: kept"


def at_target(target: int) -> str:
    return f"already at target {target:+d}"


def copied_reason(*, held: int, after: int, target: int) -> str:
    return f"{held:+d} -> {after:+d} (target {target:+d})"


def drifted_after(*, after: int, target: int) -> str:
    return f"holds {after:+d} after the copy, target {target:+d}"


def copy_failed(exc: Exception) -> str:
    """A follower's drifted reason when its copy failed."""
    return f"the copy failed: {exc}"


def copy_cl_ord_id(fill: Fill, follower: Follower) -> str:
    """The clOrdId of a follower's order copying ``fill``: one per (leader fill, follower)."""
    return f"cp{fill.broker_fill_id}-{follower.pk}"


def sizing_of(follower: Follower) -> Sizing:
    return Sizing(
        ratio=follower.ratio, fixed_qty=follower.fixed_qty, max_contracts=follower.max_contracts
    )


def guard_reads_pnl(follower: Follower) -> bool:
    """Whether an add on ``follower`` needs today's P&L from the broker (`within_guard`): a
    daily loss limit set, and not disarmed yet."""
    limit = follower.max_daily_loss
    return follower.sync_state != Follower.SyncState.DISARMED and limit is not None and limit > 0


def exit_copies_of(fill: Fill) -> QuerySet[ExitCopy]:
    """The followers' copies of the leader exit whose fill this is (none when it is not one of
    our orders)."""
    if fill.order_id is None:
        return ExitCopy.objects.none()
    return ExitCopy.objects.filter(leader_order_id=fill.order_id)


def follower_sync(*, outcome: CopyOutcome, leader_net: int, compare_only: bool = False) -> None:
    """Bring one follower to its target for ``leader_net`` (or, ``compare_only``, only say
    whether it is there), recorded on ``outcome`` and on the follower's sync state."""
    follower = follower_of(outcome)
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
    group = outcome.event.group
    if leader_net == 0 and not group.flatten_when_leader_flat:
        _finish(outcome, CopyOutcome.Status.NOTHING, symbol=symbol, reason=LEADER_FLAT_KEPT)
        return
    target = follower_target(leader_net=leader_net, sizing=sizing_of(follower))
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
        follower_mark(follower, Follower.SyncState.DRIFTED, copy_failed(exc))
        return
    if follower.copy_exits and not compare_only:
        exits_follow(outcome, leader_net=leader_net)


def exits_follow(outcome: CopyOutcome, *, leader_net: int) -> None:
    """After the follower's position changed: its copies of the leader's exits follow."""
    follower = follower_of(outcome)
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
    return (
        exit_copies_of(outcome.event.leader_fill)
        .filter(follower=follower_of(outcome))
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
    follower = follower_of(outcome)
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


def within_guard(broker: Broker, follower: Follower, *, target: int, held: int) -> int:
    """The target a follower may take: a disarmed one is only reduced (never added to); one
    whose daily loss limit is reached (the broker's realized P&L of today) is disarmed first,
    and said so."""
    adding = abs(target) > abs(held) or (target != 0 and held != 0 and (target > 0) != (held > 0))
    limit = follower.max_daily_loss
    if adding and limit is not None and guard_reads_pnl(follower):
        loss = broker.day_pnl(account_id=follower.subaccount.broker_account_id).realized_loss
        if loss >= limit:
            follower_mark(
                follower,
                Follower.SyncState.DISARMED,
                f"today's loss ${loss} reached its limit ${limit}: only closes "
                "are copied now; re-arm it to copy entries again",
            )
            follower.sync_state = Follower.SyncState.DISARMED
    if follower.sync_state == Follower.SyncState.DISARMED:
        return reduce_only(target=target, held=held)
    return target


def _sync_locked(
    broker: Broker, outcome: CopyOutcome, *, symbol: str, target: int, compare: bool
) -> None:
    follower = follower_of(outcome)
    subaccount = follower.subaccount
    account_id = subaccount.broker_account_id
    held = position_read(broker, account_id=account_id, symbol=symbol).net_pos
    target = within_guard(broker, follower, target=target, held=held)
    cl_ord_id = copy_cl_ord_id(outcome.event.leader_fill, follower)
    earlier = Order.objects.filter(cl_ord_id=cl_ord_id).exists()
    if not compare and not earlier and held != target and _exit_copy_of_fill(outcome):
        reached = _own_exit_filled(broker, outcome, symbol=symbol, target=target)
        if reached is not None:
            reason = f"its copy of the leader's exit filled: {held:+d} -> {reached:+d}"
            _done(outcome, symbol=symbol, target=target, held=held, delta=0, reason=reason)
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
                else at_target(target)
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
    reason = copied_reason(held=held, after=after, target=target)
    _done(outcome, symbol=symbol, target=target, held=held, delta=delta, reason=reason)
    if after == target:
        follower_mark(follower, Follower.SyncState.IN_SYNC, "")
    else:
        follower_mark(
            follower, Follower.SyncState.DRIFTED, drifted_after(after=after, target=target)
        )


def follower_of(outcome: CopyOutcome) -> Follower:
    """The follower an outcome being worked on belongs to (only a removed follower's old log
    lines have none, and those are never worked on)."""
    follower = outcome.follower
    if follower is None:
        raise ValueError(f"copy outcome {outcome.pk} has no follower (removed)")
    return follower


def _done(
    outcome: CopyOutcome, *, symbol: str, target: int, held: int, delta: int, reason: str
) -> None:
    _finish(
        outcome,
        CopyOutcome.Status.DONE,
        symbol=symbol,
        target=target,
        held_before=held,
        delta=delta,
        reason=reason,
    )


def _finish(outcome: CopyOutcome, status: str, **fields: object) -> None:
    fields = {k: v for k, v in fields.items() if v is not None}
    CopyOutcome.objects.filter(pk=outcome.pk).update(
        status=status, finished_at=timezone.now(), **fields
    )
