"""A leader's take-profits and stops mirrored on followers ("copy exits").

`exits_sync` brings one follower's mirrored exits in line with the leader's working exits on one
contract. What it guarantees:

- Each leader exit (a working Limit or Stop order that closes the leader's position, ours or
  placed by hand) has at most one working copy per follower: same price (mapped through the
  contract mapping, rounded to the follower's tick), the closing side of the follower's own
  position, sized to it (the leader's share of its position times what the follower holds,
  at least 1, never more than it holds). A leader's one-cancels-other pair is copied as a pair.
- A leader exit modified (price, size) is modified on the follower; one cancelled or filled,
  or a follower that is flat, has its copies cancelled. Nothing else is touched: a follower's
  own orders are never cancelled here.
- The follower's position is read at the broker under its position lock (a signal or a copy on
  it finishes first); every order goes through the order lifecycle (rows before calls,
  deterministic clOrdIds ``cx<leader order>-<follower>-<n>``, looked up, never re-sent).
"""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection

from copytrade.models import ExitCopy, Follower
from copytrade.sizing import follower_contract
from copytrade.sync_state import follower_mark
from trading.broker_view import position_read
from trading.brokers.base import Broker, BrokerRejected, OrderRequest, OrderType, Side
from trading.brokers.services import broker_for
from trading.contracts import ContractSpec, round_to_tick
from trading.models import Order, Position
from trading.orders import order_cancel, order_modify
from trading.orders_copy import copy_oco_place_once, copy_order_place_once
from trading.position_lock import position_lock

logger = logging.getLogger(__name__)

EXIT_TYPES = ("Limit", "Stop", "StopLimit")
LIVE = (*Order.OPEN_STATES, Order.State.SUBMITTED, Order.State.IN_DOUBT)
LOCK_WAIT_SECONDS = 10.0

Wanted = tuple[Side, int, Decimal | None, Decimal | None]  # side, qty, price, stop price


def leader_exits(
    *, follower: Follower, leader_symbol: str, leader_net: int | None = None
) -> tuple[int, list[Order]]:
    """The leader's net position on ``leader_symbol`` (as given, else the mirror's) and its
    working exits."""
    leader = follower.group.leader
    net = leader_net
    if net is None:
        position = Position.objects.filter(subaccount=leader, symbol=leader_symbol).first()
        net = position.net_pos if position is not None else 0
    if net == 0:
        return 0, []
    closing = Side.SELL.value if net > 0 else Side.BUY.value
    rows = Order.objects.filter(
        subaccount=leader,
        symbol=leader_symbol,
        state__in=Order.OPEN_STATES,
        order_type__in=EXIT_TYPES,
        side=closing,
        broker_order_id__isnull=False,
    ).order_by("id")
    return net, list(rows)


def exits_may_change(
    *, followers: list[Follower], leader_symbol: str, leader_net: int
) -> list[Follower]:
    """Of ``followers`` (one group's), those `exits_sync` may have something to do for: all,
    when the leader has working exits on ``leader_symbol``; else those with a live copy (to
    cancel). For the others it would only read the position and change nothing."""
    if not followers:
        return []
    _, exits = leader_exits(
        follower=followers[0], leader_symbol=leader_symbol, leader_net=leader_net
    )
    if exits:
        return followers
    live = set(
        ExitCopy.objects.filter(follower__in=followers, follower_order__state__in=LIVE).values_list(
            "follower_id", flat=True
        )
    )
    return [f for f in followers if f.pk in live]


def exits_sync(
    *, follower: Follower, leader_symbol: str, leader_net: int | None = None
) -> list[str]:
    """Bring ``follower``'s copies of the leader's exits on ``leader_symbol`` in line (see the
    module); ``leader_net``: the leader's position when just read at the broker (else the
    mirror's). Returns what was done, in words. Raises BrokerError / TimeoutError (busy)."""
    contract = follower_contract(leader_symbol=leader_symbol, symbol_map=follower.symbol_map or {})
    symbol = contract.tradovate_name
    subaccount = follower.subaccount
    leader_net, exits = leader_exits(
        follower=follower, leader_symbol=leader_symbol, leader_net=leader_net
    )
    copying = follower.copy_exits and follower.enabled and follower.group.enabled
    with position_lock(subaccount=subaccount, symbol=symbol, timeout=LOCK_WAIT_SECONDS):
        broker = broker_for(connection=subaccount.connection)
        try:
            held = position_read(
                broker, account_id=subaccount.broker_account_id, symbol=symbol
            ).net_pos
            wanted: dict[int, Wanted] = {}
            if copying and held != 0 and leader_net != 0:
                closing = Side.SELL if held > 0 else Side.BUY
                for row in exits:
                    share = max(1, row.qty * abs(held) // abs(leader_net))
                    wanted[row.pk] = (
                        closing,
                        min(share, abs(held)),
                        _tick(row.price, contract.spec),
                        _tick(row.stop_price, contract.spec),
                    )
            return _apply(broker, follower, symbol, exits, wanted)
        finally:
            broker.close()


def _apply(
    broker: Broker,
    follower: Follower,
    symbol: str,
    exits: list[Order],
    wanted: dict[int, Wanted],
) -> list[str]:
    subaccount = follower.subaccount
    done: list[str] = []
    copies = {
        c.leader_order_id: c
        for c in ExitCopy.objects.filter(
            follower=follower, follower_order__state__in=LIVE
        ).select_related("follower_order")
    }
    for leader_pk, copy in copies.items():
        if leader_pk in wanted:
            continue
        row = copy.follower_order
        if row.broker_order_id is not None:
            with contextlib.suppress(BrokerRejected):  # it filled or ended meanwhile
                order_cancel(broker, subaccount=subaccount, order_id=row.broker_order_id)
            done.append(f"cancelled the copy of leader order {copy.leader_order_id}")
    for leader_pk, (_, qty, price, stop) in wanted.items():
        existing = copies.get(leader_pk)
        if existing is None:
            continue
        row = existing.follower_order
        if row.state in Order.OPEN_STATES and (row.qty, row.price, row.stop_price) != (
            qty,
            price,
            stop,
        ):
            order_modify(broker, row=row, qty=qty, price=price, stop_price=stop)
            done.append(f"changed {row.cl_ord_id} to {qty} @ {price or stop}")
    missing = [row for row in exits if row.pk in wanted and row.pk not in copies]
    pairs: dict[int, list[Order]] = {}
    for row in missing:
        if row.broker_oco_id is not None:
            pairs.setdefault(row.broker_oco_id, []).append(row)
    for pair in pairs.values():
        limits = [r for r in pair if r.order_type == OrderType.LIMIT.value]
        stops = [r for r in pair if r.order_type != OrderType.LIMIT.value]
        if len(limits) == 1 and len(stops) == 1:
            tp, sl = copy_oco_place_once(
                broker,
                subaccount=subaccount,
                take_profit=_request(follower, symbol, limits[0], wanted[limits[0].pk]),
                stop=_request(follower, symbol, stops[0], wanted[stops[0].pk]),
            )
            _remember(follower, limits[0], tp)
            _remember(follower, stops[0], sl)
            done.append(f"copied the leader's take-profit + stop pair as {tp.cl_ord_id}")
            missing = [r for r in missing if r not in (limits[0], stops[0])]
    for row in missing:
        placed = copy_order_place_once(
            broker,
            subaccount=subaccount,
            request=_request(follower, symbol, row, wanted[row.pk]),
            role=Order.Role.TAKE_PROFIT
            if row.order_type == OrderType.LIMIT.value
            else Order.Role.STOP,
        )
        _remember(follower, row, placed)
        done.append(f"copied leader order {row.broker_order_id} as {placed.cl_ord_id}")
    return done


def _request(follower: Follower, symbol: str, leader: Order, wanted: Wanted) -> OrderRequest:
    side, qty, price, stop = wanted
    again = ExitCopy.objects.filter(follower=follower, leader_order=leader).count()
    return OrderRequest(
        account_id=follower.subaccount.broker_account_id,
        account_name=follower.subaccount.name,
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=OrderType(leader.order_type),
        price=price,
        stop_price=stop,
        cl_ord_id=f"cx{leader.broker_order_id}-{follower.pk}-{again + 1}",
    )


def _remember(follower: Follower, leader: Order, placed: Order) -> None:
    ExitCopy.objects.get_or_create(
        follower_order=placed, defaults={"follower": follower, "leader_order": leader}
    )


def _tick(price: Decimal | None, spec: ContractSpec) -> Decimal | None:
    return None if price is None else round_to_tick(price, spec)


def group_exits_sync(*, group_pk: int, leader_symbol: str) -> int:
    """Every copying follower of the group brought in line with the leader's exits on
    ``leader_symbol``, all at once; a follower's failure is said on its sync state and never
    stops another. Returns how many followers were looked at."""
    followers = list(
        Follower.objects.filter(
            group_id=group_pk, group__enabled=True, enabled=True, copy_exits=True
        ).select_related("group__leader", "subaccount__connection")
    )

    def one(follower: Follower) -> None:
        try:
            exits_sync(follower=follower, leader_symbol=leader_symbol)
        except Exception as exc:  # said where the trader looks; the others go on
            logger.warning("copy exits of follower %s: %s", follower.pk, exc)
            follower_mark(follower, Follower.SyncState.DRIFTED, f"exits not copied: {exc}")
        finally:
            connection.close()

    if len(followers) == 1:
        one(followers[0])
    elif followers:
        with ThreadPoolExecutor(max_workers=min(16, len(followers))) as pool:
            list(pool.map(one, followers))
    return len(followers)
