"""Reconciliation: the broker's full snapshot (``user/syncrequest``) against the mirror.

Run on every (re)connect of a login's user stream and every few minutes after
(``STREAM_RESYNC_SECONDS``). What it guarantees:

- Every order, order version, fill, position and cash balance of the snapshot is applied as the
  stream would apply it (idempotent), with order moves logged as source "reconciliation": what
  the stream missed while it was down is filled in. An order we placed that was in doubt is
  settled by it (found by our clOrdId).
- A position the mirror holds that the snapshot no longer has is flat; each correction of a
  position is logged with its before and after.
- Exits we placed that are still working on a flat position are cancelled (under the
  position's lock, after reading the broker again, so a signal being carried out is never
  undercut), and the signal's log says so.
- A position we opened whose stop is gone (cancelled at the broker by hand) is flagged on the
  position (the dashboard shows it) and in its signal's log.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from accounts.models import Subaccount
from trading.brokers.base import BrokerError, BrokerRejected, OrderRequest, OrderType, Side
from trading.brokers.services import broker_for
from trading.in_doubt import InDoubt
from trading.mirror import (
    Changes,
    Login,
    cash_apply,
    changes_publish,
    contract_names_remember,
    fill_apply,
    order_apply,
    order_version_apply,
    position_apply,
)
from trading.models import Order, Position, SignalOutcome
from trading.orders import order_cancel, order_place_once
from trading.outcome_log import outcome_log_append
from trading.position_lock import position_lock

logger = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 1.0
EXIT_ROLES = (Order.Role.TAKE_PROFIT, Order.Role.STOP)
STOP_TYPES = ("Stop", "StopLimit", "TrailingStop")


def snapshot_reconcile(*, login: Login, snapshot: dict[str, Any]) -> Changes:
    """Apply the broker's snapshot of ``login`` to the mirror and correct what differs (see the
    module's guarantees). Returns what changed (also pushed to the owner's tabs)."""
    changes = Changes(source="reconcile")
    names = {
        int(c["id"]): str(c["name"])
        for c in _items(snapshot, "contracts")
        if isinstance(c.get("id"), int) and c.get("name")
    }
    contract_names_remember(login.connection, names)
    login.names.update(names)
    for entity in _items(snapshot, "orders"):
        order_apply(login, entity, "Updated", changes)
    for entity in _items(snapshot, "orderVersions"):
        order_version_apply(login, entity, "Updated", changes)
    for entity in _items(snapshot, "fills"):
        fill_apply(login, entity, "Created", changes)
    seen: set[tuple[int, int]] = set()
    for entity in _items(snapshot, "positions"):
        account, contract = entity.get("accountId"), entity.get("contractId")
        if isinstance(account, int) and isinstance(contract, int):
            seen.add((account, contract))
        before = _position_state(login, account, contract)
        position_apply(login, entity, "Updated", changes)
        after = _position_state(login, account, contract)
        if before is not None and before != after:
            logger.info("reconcile: position %s: %s -> %s", _where(login, account), before, after)
    positions_gone_flatten(login, seen=seen, changes=changes)
    for entity in _items(snapshot, "cashBalances"):
        cash_apply(login, entity, "Updated", changes)
    exits_on_flat_cancel(login, changes=changes)
    stops_missing_flag(login, changes=changes)
    changes_publish(login, changes)
    return changes


def positions_gone_flatten(login: Login, *, seen: set[tuple[int, int]], changes: Changes) -> None:
    """Positions the mirror holds open that the broker's snapshot does not have are flat."""
    for position in Position.objects.filter(subaccount__in=login.accounts.values()).exclude(
        net_pos=0
    ):
        key = (position.subaccount.broker_account_id, position.contract_id)
        if key in seen:
            continue
        logger.info(
            "reconcile: position %s %s: %+d -> 0 (not in the broker's snapshot)",
            position.subaccount.name,
            position.symbol,
            position.net_pos,
        )
        Position.objects.filter(pk=position.pk).update(net_pos=0, net_price=None, problem="")
        changes.positions.add(position.pk)


def exits_on_flat_cancel(login: Login, *, changes: Changes) -> None:
    """Cancel our exits still working on a flat position (read again under its lock)."""
    open_exits = Order.objects.filter(
        subaccount__in=login.accounts.values(),
        external=False,
        role__in=EXIT_ROLES,
        state__in=Order.OPEN_STATES,
        broker_order_id__isnull=False,
    ).select_related("subaccount")
    groups: dict[tuple[int, str], list[Order]] = {}
    for row in open_exits:
        groups.setdefault((row.subaccount_id, row.symbol), []).append(row)
    flat = {
        (p.subaccount_id, p.symbol)
        for p in Position.objects.filter(subaccount__in=login.accounts.values(), net_pos=0)
    }
    held = {
        (p.subaccount_id, p.symbol)
        for p in Position.objects.filter(subaccount__in=login.accounts.values()).exclude(net_pos=0)
    }
    for key, rows in groups.items():
        if key in held or key not in flat:
            continue
        _exits_cancel(rows[0].subaccount, key[1], rows, changes)


def _exits_cancel(subaccount: Subaccount, symbol: str, rows: list[Order], changes: Changes) -> None:
    try:
        with position_lock(subaccount=subaccount, symbol=symbol, timeout=LOCK_WAIT_SECONDS):
            broker = broker_for(connection=subaccount.connection)
            try:
                positions = broker.positions(account_id=subaccount.broker_account_id)
                if any(p.symbol == symbol and p.net_pos != 0 for p in positions):
                    return  # not flat after all (a signal just opened it): nothing to do
                for row in rows:
                    with contextlib.suppress(BrokerRejected):  # ended meanwhile
                        order_cancel(
                            broker, subaccount=subaccount, order_id=row.broker_order_id or 0
                        )
                    row.refresh_from_db()
                    changes.add_order(row)
                    outcome_log_append(
                        outcome_pk=row.outcome_id,
                        line=f"reconciliation: {row.get_role_display().lower()} {row.broker_order_id} "
                        f"of {subaccount.name} {symbol} cancelled: the position is flat",
                    )
            finally:
                broker.close()
    except TimeoutError:
        return  # a signal holds the position: the next reconciliation looks again
    except BrokerError as exc:
        logger.warning("reconcile: exits of %s %s not cancelled: %s", subaccount.name, symbol, exc)
        for row in rows:  # said on each order's signal too: the trader sees it, not only a log
            row.refresh_from_db()
            if row.state in Order.OPEN_STATES:
                outcome_log_append(
                    outcome_pk=row.outcome_id,
                    line=f"reconciliation: {row.get_role_display().lower()} "
                    f"{row.broker_order_id} of {subaccount.name} {symbol} is still working on a "
                    f"flat position: the cancel failed ({exc}); the next reconciliation tries "
                    "again, or cancel it at the broker",
                )


def stops_missing_flag(login: Login, *, changes: Changes) -> None:
    """An open position we protected with a stop that no longer has one working is flagged."""
    for position in Position.objects.filter(subaccount__in=login.accounts.values()).exclude(
        net_pos=0
    ):
        ours = Order.objects.filter(
            subaccount=position.subaccount_id, symbol=position.symbol, external=False
        )
        entry = ours.filter(role=Order.Role.ENTRY).order_by("-id").first()
        stops = ours.filter(role=Order.Role.STOP, id__gt=entry.pk if entry else 0)
        working = (
            stops.filter(state__in=Order.OPEN_STATES).exists()
            or Order.objects.filter(
                subaccount=position.subaccount_id,
                symbol=position.symbol,
                external=True,
                state__in=Order.OPEN_STATES,
                order_type__in=STOP_TYPES,
            ).exists()
        )
        gone = stops.filter(state=Order.State.CANCELLED).order_by("-state_changed_at").first()
        problem = ""
        if entry is not None and gone is not None and not working:
            working = stop_restore(position, gone=gone, changes=changes)
        if entry is not None and gone is not None and not working:
            at = gone.state_changed_at or gone.updated_at
            problem = (
                f"No stop at the broker: the stop placed by signal #{entry.signal_id} was "
                f"cancelled at {at:%H:%M:%S} UTC. Place a stop or close the position."
            )
        if problem != position.problem:
            Position.objects.filter(pk=position.pk).update(problem=problem)
            changes.positions.add(position.pk)
            if problem:
                logger.warning(
                    "reconcile: %s %s: %s", position.subaccount_id, position.symbol, problem
                )
                outcome_log_append(
                    outcome_pk=gone.outcome_id if gone else None, line=f"reconciliation: {problem}"
                )


def stop_restore(position: Position, *, gone: Order, changes: Changes) -> bool:
    """Place the cancelled stop ``gone`` again, at its price, for the whole open position, when
    the trader who opened it asked for that ("restore missing exits"); under the position's
    lock, after reading the broker again (a stop placed meanwhile, or a flat position, means
    nothing is placed). True when a stop is working now."""
    if gone.outcome_id is None:
        return False
    outcome = (
        SignalOutcome.objects.select_related("trader_account__trader", "subaccount__connection")
        .filter(pk=gone.outcome_id)
        .first()
    )
    if outcome is None or not outcome.trader_account.trader.restore_missing_exits:
        return False
    subaccount, symbol = outcome.subaccount, position.symbol
    account_id = subaccount.broker_account_id
    try:
        with position_lock(subaccount=subaccount, symbol=symbol, timeout=LOCK_WAIT_SECONDS):
            broker = broker_for(connection=subaccount.connection)
            try:
                net = sum(
                    p.net_pos for p in broker.positions(account_id=account_id) if p.symbol == symbol
                )
                closing = Side.SELL if net > 0 else Side.BUY
                if net == 0 or any(
                    o.symbol == symbol and o.side == closing and o.order_type in STOP_TYPES
                    for o in broker.working_orders(account_id=account_id)
                ):
                    return net != 0
                again = Order.objects.filter(cl_ord_id__startswith=f"{gone.cl_ord_id}-re").count()
                row = order_place_once(
                    broker,
                    outcome=outcome,
                    role=Order.Role.STOP,
                    request=OrderRequest(
                        account_id=account_id,
                        account_name=subaccount.name,
                        symbol=symbol,
                        side=closing,
                        qty=abs(net),
                        order_type=OrderType.STOP,
                        stop_price=gone.stop_price,
                        cl_ord_id=f"{gone.cl_ord_id}-re{again + 1}",
                    ),
                )
            finally:
                broker.close()
    except TimeoutError:
        return False  # a signal holds the position: the next reconciliation looks again
    except (BrokerError, InDoubt) as exc:
        outcome_log_append(
            outcome_pk=outcome.pk,
            line=f"reconciliation: the stop of {subaccount.name} {symbol} was cancelled at the "
            f"broker and could not be placed again: {exc}",
        )
        return False
    changes.add_order(row)
    outcome_log_append(
        outcome_pk=outcome.pk,
        line=f"reconciliation: the stop of {subaccount.name} {symbol} was cancelled at the "
        f"broker; placed again at {gone.stop_price} for {abs(net)} (restore missing exits is on)",
    )
    return True


def _items(snapshot: dict[str, Any], key: str) -> Iterable[dict[str, Any]]:
    value = snapshot.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _position_state(login: Login, account: object, contract: object) -> tuple[int, str] | None:
    subaccount = login.account(account)
    if subaccount is None or not isinstance(contract, int):
        return None
    row = Position.objects.filter(subaccount=subaccount, contract_id=contract).first()
    return None if row is None else (row.net_pos, str(row.net_price))


def _where(login: Login, account: object) -> str:
    subaccount = login.account(account)
    return subaccount.name if subaccount is not None else str(account)
