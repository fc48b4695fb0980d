"""Resync: one follower brought to its target from the leader's position at the broker now,
on the trader's request (the "Resync" button of a drifted follower).

Unlike `copytrade.replication.fill_copy` there is no leader fill behind it, so no `CopyEvent`:
the leader's net is read from the broker for every contract it holds or the group copied in
the last day, the follower's target follows from its sizing (`copytrade.sizing`), and only
the delta is sent (D33), with a fresh clOrdId ``rs<follower>-<ms>`` through
`trading.orders_copy.copy_order_place_once` (row written before the call). What it guarantees:

- The follower's position is read under its position lock (one writer per position) and the
  order sent under it, then read again until it reaches the target: a second Resync pressed at
  once waits for the lock, reads the new position, and sends nothing.
- A follower already at its target is sent nothing.
- A disarmed or switched-off follower, or a switched-off group, is refused with the reason.
- Every failure says what failed in the broker's words; the follower's sync state says where
  it ended (in sync, or drifted with why).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from copytrade.models import CopyEvent, Follower
from copytrade.per_follower import LOCK_WAIT_SECONDS
from copytrade.services import CopySetupError
from copytrade.sizing import Sizing, follower_contract, follower_delta, follower_target
from copytrade.sync_state import follower_mark
from trading.broker_view import SafetyBlock, position_read, position_wait
from trading.brokers.base import Broker, BrokerError
from trading.brokers.services import broker_for
from trading.in_doubt import InDoubt
from trading.models import Order
from trading.orders_copy import copy_delta_place_once
from trading.position_lock import position_lock

RECENT = timedelta(days=1)  # contracts the group copied this long ago are resynced too


@dataclass(frozen=True)
class ResyncLine:
    """One contract of a resync: what the follower held, its target, what was sent."""

    symbol: str  # the follower's contract
    leader_net: int
    target: int
    held: int | None = None
    delta: int = 0
    after: int | None = None
    error: str = ""

    @property
    def at_target(self) -> bool:
        return not self.error and self.after == self.target

    def words(self) -> str:
        if self.error:
            return f"{self.symbol}: {self.error}"
        if self.delta == 0:
            return f"{self.symbol}: already at target {self.target:+d}, nothing sent"
        side = "bought" if self.delta > 0 else "sold"
        after = "—" if self.after is None else f"{self.after:+d}"
        return (
            f"{self.symbol}: held {self.held:+d}, target {self.target:+d} (leader "
            f"{self.leader_net:+d}): {side} {abs(self.delta)}, now {after}"
        )


@dataclass(frozen=True)
class Resynced:
    follower: Follower
    lines: tuple[ResyncLine, ...]

    @property
    def ok(self) -> bool:
        return all(line.at_target for line in self.lines)

    @property
    def sent(self) -> int:
        return sum(1 for line in self.lines if line.delta != 0)


def follower_resync(*, follower: Follower) -> Resynced:
    """Bring ``follower`` to its target for the leader's positions at the broker now (see the
    module's guarantees). Raises ``CopySetupError`` when it may not trade (disarmed, switched
    off) or the leader cannot be read (nothing is sent then)."""
    follower = Follower.objects.select_related(
        "group__leader__connection", "subaccount__connection"
    ).get(pk=follower.pk)
    group, name = follower.group, follower.subaccount.name
    if follower.sync_state == Follower.SyncState.DISARMED:
        raise CopySetupError(f"{name} is disarmed ({follower.sync_reason}): re-arm it first.")
    if not follower.enabled:
        raise CopySetupError(f"{name} is switched off in this group: switch it on first.")
    if not group.enabled:
        raise CopySetupError(f"“{group.name}” is off: turn copying on first.")
    leader_nets = _leader_nets(follower)
    sizing = Sizing(
        ratio=follower.ratio, fixed_qty=follower.fixed_qty, max_contracts=follower.max_contracts
    )
    lines = []
    for leader_symbol, leader_net in sorted(leader_nets.items()):
        if leader_net == 0 and not group.flatten_when_leader_flat:
            continue  # the group keeps followers' positions when the leader goes flat
        target = follower_target(leader_net=leader_net, sizing=sizing)
        try:
            symbol = follower_contract(
                leader_symbol=leader_symbol, symbol_map=follower.symbol_map or {}
            ).tradovate_name
        except ValueError as exc:
            lines.append(
                ResyncLine(leader_symbol, leader_net, target, error=f"contract mapping: {exc}")
            )
            continue
        lines.append(_line_sync(follower, symbol=symbol, leader_net=leader_net, target=target))
    if all(line.at_target for line in lines):
        follower_mark(follower, Follower.SyncState.IN_SYNC, "")
    else:
        follower_mark(
            follower,
            Follower.SyncState.DRIFTED,
            "resync: " + "; ".join(line.words() for line in lines if not line.at_target),
        )
    return Resynced(follower=follower, lines=tuple(lines))


def _leader_nets(follower: Follower) -> dict[str, int]:
    """The leader's net per contract at the broker, for every contract it has a position row in
    and every contract the group copied in the last day (flat now: 0)."""
    leader = follower.group.leader
    try:
        broker = broker_for(connection=leader.connection)
        try:
            positions = broker.positions(account_id=leader.broker_account_id)
        finally:
            broker.close()
    except BrokerError as exc:
        raise CopySetupError(
            f"The leader {leader.name} could not be read at the broker, so nothing was sent: {exc}"
        ) from None
    copied = CopyEvent.objects.filter(
        group=follower.group, received_at__gte=timezone.now() - RECENT
    ).values_list("symbol", flat=True)
    nets = dict.fromkeys(copied, 0)
    for position in positions:
        nets[position.symbol] = nets.get(position.symbol, 0) + position.net_pos
    return nets


def _line_sync(follower: Follower, *, symbol: str, leader_net: int, target: int) -> ResyncLine:
    subaccount = follower.subaccount
    try:
        with position_lock(subaccount=subaccount, symbol=symbol, timeout=LOCK_WAIT_SECONDS):
            broker = broker_for(connection=subaccount.connection)
            try:
                return _line_sync_locked(
                    broker, follower, symbol=symbol, leader_net=leader_net, target=target
                )
            finally:
                broker.close()
    except TimeoutError:
        error = f"busy for {LOCK_WAIT_SECONDS:g} s (a signal or a copy held it): nothing sent"
    except (BrokerError, SafetyBlock, InDoubt) as exc:
        error = str(exc)
    return ResyncLine(symbol, leader_net, target, error=error)


def _line_sync_locked(
    broker: Broker, follower: Follower, *, symbol: str, leader_net: int, target: int
) -> ResyncLine:
    subaccount = follower.subaccount
    account_id = subaccount.broker_account_id
    held = position_read(broker, account_id=account_id, symbol=symbol).net_pos
    delta = follower_delta(target=target, held=held)
    if delta == 0:
        return ResyncLine(symbol, leader_net, target, held=held, after=held)
    copy_delta_place_once(
        broker, subaccount=subaccount, symbol=symbol, delta=delta, cl_ord_id=_cl_ord_id(follower)
    )
    after = position_wait(
        broker, account_id=account_id, symbol=symbol, until=lambda pos: pos == target
    ).net_pos
    return ResyncLine(symbol, leader_net, target, held=held, delta=delta, after=after)


def _cl_ord_id(follower: Follower) -> str:
    """``rs<follower>-<ms>``: new for every resync (the position read under the lock, not the
    id, keeps a second press from trading twice)."""
    ms = int(time.time() * 1000)
    while Order.objects.filter(cl_ord_id=f"rs{follower.pk}-{ms}").exists():
        ms += 1
    return f"rs{follower.pk}-{ms}"
