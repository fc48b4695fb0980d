"""A leader fill copied to many followers per broker login (issue 14): the cost follows broker
round trips, not followers x Python work. The model is the signals' fan-out (trading/fanout.py).

`event_copy_batch` carries out the plain followers of one copy event:
1. the position lock of every plain follower's (account, contract), tried in one statement on
   this thread's connection; a follower whose lock is busy is left to the per-follower path
   (`copytrade.per_follower.follower_sync`), which waits for it;
2. the leader's position read and one positions read per follower login (Tradovate's list holds
   every account of the login), all at once (`trading.broker_calls.CallQueue`); a login that
   cannot be logged in to or read fails its followers in the broker's words, nothing sent;
3. each follower's target (`copytrade.sizing`, the same functions as the per-follower path) and
   the delta to what it holds; a follower at its target is sent nothing;
4. the rows of every delta order in one insert (``for_copy``, clOrdId ``cp<fill>-<follower>``),
   then every order sent at once (at most FANOUT_LOGIN_CONCURRENCY in flight per login);
   accepted in bulk; an unanswered call puts its row and outcome in doubt, a refusal rejects the
   row and fails the outcome, in the broker's words;
5. one positions read per login after the answers, again until each follower reaches its target
   or FILL_WAIT_SECONDS pass; then the outcomes, their order links and the followers' sync
   states written in bulk, after every order was sent;
6. the followers' copies of the leader's exits follow after everything else, on the caller's
   threads (`copytrade.per_follower.exits_follow`), for the followers whose exits may change
   (`copytrade.exits.exits_may_change`: for the others it would read and change nothing).
Nothing on the pool's threads touches the database.

Plain: a fill young enough to copy blind, a contract that maps, no order row under the
follower's clOrdId yet (else a rerun: looked up by the per-follower path, never re-sent), the
fill not one of the leader's exits the follower copies (its own copy fills instead), and no
daily-loss limit to check at the broker (none set, or the follower already disarmed: then it is
only reduced, without a read). Everything else goes the per-follower path, as before.

Exactly-once is the per-follower path's: the deterministic clOrdId, the row written (committed)
before its call, under the position's lock. A run killed at any point leaves outcomes
unfinished; the event's sweep runs it again, and the follower whose row exists goes the
per-follower path, which looks the order up by its clOrdId and never sends it again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import BrokerConnection
from config.rows_update import rows_update
from copytrade.exits import exits_may_change
from copytrade.models import CopyEvent, CopyOutcome, Follower
from copytrade.per_follower import (
    LEADER_FLAT_KEPT,
    at_target,
    copied_reason,
    copy_cl_ord_id,
    copy_failed,
    drifted_after,
    exit_copies_of,
    follower_of,
    guard_reads_pnl,
    sizing_of,
    within_guard,
)
from copytrade.sizing import follower_contract, follower_delta, follower_target
from copytrade.sync_state import followers_mark
from trading.broker_calls import CallQueue
from trading.broker_view import FILL_WAIT_SECONDS, SafetyBlock, position_read, view_of
from trading.brokers.base import Broker, BrokerError, BrokerPosition, PlacedOrder
from trading.brokers.services import broker_for
from trading.fanout import positions_after, positions_by_account
from trading.in_doubt import InDoubt
from trading.models import Order
from trading.order_states import orders_accepted
from trading.orders import refused_or_in_doubt
from trading.orders_copy import copy_delta_request, copy_rows_create
from trading.position_lock import position_locks_release, position_locks_try

logger = logging.getLogger(__name__)

Answers = list[tuple[tuple[Any, ...], Any]]

_WRITTEN = (
    "status",
    "started_at",
    "finished_at",
    "symbol",
    "target",
    "held_before",
    "delta",
    "reason",
    "error",
)


@dataclass
class CopyBatch:
    """What the batch leaves to its caller: the leader's net position it read, the outcomes for
    the per-follower path, and those done here whose followers' exits follow."""

    leader_net: int
    left: list[CopyOutcome]
    exits_follow: list[CopyOutcome] = field(default_factory=list)


@dataclass
class _Copy:
    """One follower's part on its way through the batch."""

    outcome: CopyOutcome
    follower: Follower
    symbol: str
    held: int | None = None
    target: int | None = None
    delta: int = 0
    row: Order | None = None
    status: str | None = None  # set when finished (written at the end, in bulk)
    fields: dict[str, Any] = field(default_factory=dict)
    mark: tuple[str, str] | None = None  # the follower's sync state and why
    exits: bool = False

    @property
    def position(self) -> tuple[int, str]:
        return (self.follower.subaccount_id, self.symbol)

    @property
    def login(self) -> int:
        return self.follower.subaccount.connection_id

    def finish(self, status: str, *, exits: bool = False, **fields: Any) -> None:
        self.status = status
        self.exits = exits
        self.fields = {
            "status": status,
            "finished_at": timezone.now(),
            "symbol": self.symbol,
            **fields,
        }

    def numbers(self) -> dict[str, Any]:
        return {"target": self.target, "held_before": self.held, "delta": self.delta}

    def failed(self, exc: Exception) -> None:
        """As the per-follower path on a broker failure: failed in its words, drifted."""
        self.finish(CopyOutcome.Status.FAILED, error=str(exc), **self.numbers())
        self.mark = (Follower.SyncState.DRIFTED, copy_failed(exc))


def event_copy_batch(
    *, event: CopyEvent, outcomes: list[CopyOutcome], compare_only: bool
) -> CopyBatch:
    """Read the leader's position, and carry out the plain ones of ``outcomes`` per broker
    login (see the module); the others are left for the per-follower path. Raises only when
    the leader cannot be read (then nothing was sent), as the per-follower path's caller did."""
    plain, left = _plain(event, outcomes, compare_only=compare_only)
    got = position_locks_try(positions=[c.position for c in plain])
    locked = [c for c, ok in zip(plain, got, strict=True) if ok]
    left += [c.outcome for c, ok in zip(plain, got, strict=True) if not ok]
    try:
        ids = [copy_cl_ord_id(event.leader_fill, c.follower) for c in locked]
        earlier = set(Order.objects.filter(cl_ord_id__in=ids).values_list("cl_ord_id", flat=True))
        fresh = [c for c, cl_ord_id in zip(locked, ids, strict=True) if cl_ord_id not in earlier]
        # a rerun: its row is looked up by the per-follower path, never sent again
        left += [
            c.outcome for c, cl_ord_id in zip(locked, ids, strict=True) if cl_ord_id in earlier
        ]
        run = _Run(event=event, copies=fresh)
        try:
            run.start()
            while run.calls.pending:
                run.answered(run.calls.answers())
        except Exception:
            if run.leader_net is None:
                raise  # the leader could not be read: nothing was sent (as before the batch)
            logger.exception(
                "copy event %s: the batch stopped; the per-follower path resumes", event.pk
            )
        finally:
            for broker in run.brokers.values():
                broker.close()
    finally:
        position_locks_release(positions=[c.position for c in locked])
    assert run.leader_net is not None
    run.write()
    left += [c.outcome for c in fresh if c.status is None]
    following = exits_may_change(
        followers=[c.follower for c in fresh if c.exits and c.follower.copy_exits],
        leader_symbol=event.symbol,
        leader_net=run.leader_net,
    )
    following_pks = {f.pk for f in following}
    exits = [c.outcome for c in fresh if c.follower.pk in following_pks]
    return CopyBatch(leader_net=run.leader_net, left=left, exits_follow=exits)


def _plain(
    event: CopyEvent, outcomes: list[CopyOutcome], *, compare_only: bool
) -> tuple[list[_Copy], list[CopyOutcome]]:
    """The outcomes the batch carries out (see the module), and the others."""
    if compare_only:
        return [], list(outcomes)
    copying_exit = set(
        exit_copies_of(event.leader_fill)
        .filter(follower__in=[o.follower_id for o in outcomes])
        .values_list("follower_id", flat=True)
    )
    plain: list[_Copy] = []
    left: list[CopyOutcome] = []
    for outcome in outcomes:
        follower = follower_of(outcome)
        try:
            contract = follower_contract(
                leader_symbol=event.symbol, symbol_map=follower.symbol_map or {}
            )
        except ValueError:  # said by the per-follower path
            left.append(outcome)
            continue
        if follower.pk in copying_exit or guard_reads_pnl(follower):
            left.append(outcome)
            continue
        plain.append(_Copy(outcome=outcome, follower=follower, symbol=contract.tradovate_name))
    return plain, left


class _Run:
    """One batch's calls and what each answer moves on (see the module's steps)."""

    def __init__(self, *, event: CopyEvent, copies: list[_Copy]) -> None:
        self.event = event
        self.copies = copies
        self.started = timezone.now()
        self.calls: CallQueue[tuple[Any, ...]] = CallQueue(
            per_login=settings.FANOUT_LOGIN_CONCURRENCY
        )
        self.brokers: dict[int, Broker] = {}
        self.logins: dict[int, list[_Copy]] = {}
        for copy in copies:
            self.logins.setdefault(copy.login, []).append(copy)
        self.leader_net: int | None = None
        self.read: dict[int, list[BrokerPosition]] = {}  # logins read, decided once the leader is
        self.unanswered: dict[int, int] = {}  # login -> its orders not answered yet
        self.placed: dict[int, list[_Copy]] = {}  # login -> its accepted orders' followers

    def start(self) -> None:
        """Every login's positions and the leader's, read at once. Logging in to the leader
        raises as before; to a follower's login fails its followers."""
        leader = self.event.group.leader
        broker = self._broker(leader.connection)
        for key, copies in self.logins.items():
            connection = copies[0].follower.subaccount.connection
            try:
                follower_broker = self._broker(connection)
            except BrokerError as exc:
                for copy in copies:
                    copy.failed(SafetyBlock(f"cannot log in to {connection.label}: {exc}"))
                continue
            self.calls.send(key, ("read", key), follower_broker.positions)
        read = partial(
            position_read, broker, account_id=leader.broker_account_id, symbol=self.event.symbol
        )
        self.calls.send(leader.connection_id, ("leader",), read)

    def answered(self, answers: Answers) -> None:
        """One batch of answers: each kind handled together (one database write per kind)."""
        kinds: dict[str, Answers] = {}
        for tag, result in answers:
            kinds.setdefault(tag[0], []).append((tag, result))
        for _, result in kinds.get("leader", []):
            if isinstance(result, Exception):
                raise result
            self.leader_net = result.net_pos
        for (_, key), result in kinds.get("read", []):
            if isinstance(result, Exception):
                for copy in self.logins[key]:
                    copy.failed(SafetyBlock(str(result)))
            else:
                self.read[key] = result
        if self.leader_net is not None and self.read:
            self._decide(self.read)
            self.read = {}
        if "order" in kinds:
            self._orders_answered(kinds["order"])
        if "position" in kinds:
            self._positions_answered(kinds["position"])

    # --- 3, 4: targets and deltas -> the rows, then the orders ------------------------------

    def _decide(self, read: dict[int, list[BrokerPosition]]) -> None:
        assert self.leader_net is not None
        flat_kept = self.leader_net == 0 and not self.event.group.flatten_when_leader_flat
        sending: list[_Copy] = []
        for key, positions in read.items():
            held = positions_by_account(positions, [])
            for copy in self.logins[key]:
                if copy.status is not None:
                    continue
                if flat_kept:
                    copy.finish(CopyOutcome.Status.NOTHING, reason=LEADER_FLAT_KEPT)
                    continue
                copy.held = _net(held, copy.follower.subaccount.broker_account_id, copy.symbol)
                target = follower_target(
                    leader_net=self.leader_net, sizing=sizing_of(copy.follower)
                )
                # No broker read here: a plain follower has no daily-loss limit left to check.
                copy.target = within_guard(
                    self.brokers[key], copy.follower, target=target, held=copy.held
                )
                copy.delta = follower_delta(target=copy.target, held=copy.held)
                if copy.delta == 0:
                    copy.finish(
                        CopyOutcome.Status.NOTHING,
                        exits=True,
                        reason=at_target(copy.target),
                        **copy.numbers(),
                    )
                else:
                    sending.append(copy)
        if not sending:
            return
        requests = [
            copy_delta_request(
                subaccount=c.follower.subaccount,
                symbol=c.symbol,
                delta=c.delta,
                cl_ord_id=copy_cl_ord_id(self.event.leader_fill, c.follower),
            )
            for c in sending
        ]
        rows = copy_rows_create(
            [(c.follower.subaccount, r) for c, r in zip(sending, requests, strict=True)]
        )
        for copy, request, row in zip(sending, requests, rows, strict=True):
            copy.row = row
            place = partial(self.brokers[copy.login].place_order, request)
            self.unanswered[copy.login] = self.unanswered.get(copy.login, 0) + 1
            self.calls.send(copy.login, ("order", copy), place)

    def _orders_answered(self, answers: Answers) -> None:
        """Accepted ones recorded in bulk; a login whose orders are all answered is read once."""
        accepted: list[tuple[Order, int | None]] = []
        complete: list[int] = []
        for (_, copy), result in answers:
            assert copy.row is not None
            if isinstance(result, PlacedOrder):
                accepted.append((copy.row, result.order_id))
                self.placed.setdefault(copy.login, []).append(copy)
            else:
                _order_failed(copy, result)
            self.unanswered[copy.login] -= 1
            if self.unanswered[copy.login] == 0:
                complete.append(copy.login)
        deadline = time.monotonic() + FILL_WAIT_SECONDS
        for key in complete:
            self._positions_read(key, self.placed.pop(key, []), deadline=deadline, pause=0.0)
        orders_accepted(accepted)

    # --- 5: where each follower ended --------------------------------------------------------

    def _positions_read(
        self, key: int, waiting: list[_Copy], *, deadline: float, pause: float
    ) -> None:
        """One positions read of login ``key`` for these followers (after ``pause`` seconds)."""
        if waiting:
            read = partial(positions_after, self.brokers[key], pause)
            self.calls.send(key, ("position", key, waiting, deadline), read)

    def _positions_answered(self, answers: Answers) -> None:
        for (_, key, waiting, deadline), result in answers:
            if isinstance(result, Exception):  # as the per-follower path's read after its order
                for copy in waiting:
                    copy.failed(SafetyBlock(str(result)))
                continue
            held = positions_by_account(result, [])
            again = []
            for copy in waiting:
                assert copy.held is not None and copy.target is not None
                after = _net(held, copy.follower.subaccount.broker_account_id, copy.symbol)
                if after != copy.target and time.monotonic() <= deadline:
                    again.append(copy)
                    continue
                reason = copied_reason(held=copy.held, after=after, target=copy.target)
                copy.finish(CopyOutcome.Status.DONE, exits=True, reason=reason, **copy.numbers())
                copy.mark = (
                    (Follower.SyncState.IN_SYNC, "")
                    if after == copy.target
                    else (
                        Follower.SyncState.DRIFTED,
                        drifted_after(after=after, target=copy.target),
                    )
                )
            self._positions_read(key, again, deadline=deadline, pause=0.05)

    # --- the writes, after every call ---------------------------------------------------------

    def write(self) -> None:
        """The finished outcomes in one update, their orders linked in one insert, the
        followers' sync states in one update per state and reason."""
        finished = [c for c in self.copies if c.status is not None]
        for copy in finished:
            copy.outcome.started_at = self.started
            for name, value in copy.fields.items():
                setattr(copy.outcome, name, value)
        rows_update([c.outcome for c in finished], fields=list(_WRITTEN))
        link = CopyOutcome.orders.through
        link.objects.bulk_create(
            [link(copyoutcome_id=c.outcome.pk, order_id=c.row.pk) for c in self.copies if c.row],
            ignore_conflicts=True,
        )
        marks: dict[tuple[str, str], list[int]] = {}
        for copy in finished:
            if copy.mark is not None:
                marks.setdefault(copy.mark, []).append(copy.follower.pk)
        for (state, reason), ids in marks.items():
            followers_mark(ids, state, reason)

    def _broker(self, connection: BrokerConnection) -> Broker:
        broker = self.brokers.get(connection.pk)
        if broker is None:
            broker = self.brokers[connection.pk] = broker_for(connection=connection)
        return broker


def _net(
    held: dict[int, tuple[list[BrokerPosition], list[Any]]], account_id: int, symbol: str
) -> int:
    positions = held.get(account_id, ([], []))[0]
    return view_of([p for p in positions if p.symbol == symbol], ()).net_pos


def _order_failed(copy: _Copy, error: Exception) -> None:
    """Unanswered -> the row and outcome in doubt (looked up later, never re-sent); refused ->
    the row rejected, the outcome failed in the broker's words. An unexpected exception counts
    as unanswered: it may have been sent."""
    assert copy.row is not None
    if not isinstance(error, BrokerError):
        logger.error("the copy order %s failed unexpectedly: %r", copy.row.cl_ord_id, error)
        error = BrokerError(f"placing the copy order failed: {error!r}", ambiguous=True)
    assert isinstance(error, BrokerError)
    try:
        refused_or_in_doubt(error, copy.row, what="placing the copy order")
    except InDoubt as doubt:
        copy.finish(CopyOutcome.Status.IN_DOUBT, exits=True, error=str(doubt), **copy.numbers())
        return
    copy.failed(error)
