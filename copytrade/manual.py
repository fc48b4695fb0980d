"""The copy panel: a trade placed on a group's leader by hand from Bracketeer, which its
followers then copy like any leader trade (their fills, and with "copy exits" its take-profit
and stop).

`leader_trade` guarantees: the leader's position is read at the broker under its position lock
first; a buy or sell is a market order of the asked size, then (once filled) a take-profit and a
stop ``tp_ticks`` / ``stop_ticks`` from the fill, as one OCO pair; close cancels the leader's
working orders on that contract, then closes its position. Every order goes through the order
lifecycle (row before call, one clOrdId per press: a retried request never trades twice).
What failed is said in the broker's words.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Subaccount
from copytrade.models import CopyGroup
from trading.broker_view import position_read, position_wait
from trading.brokers.base import Broker, BrokerRejected, OrderRequest, OrderType, Side
from trading.brokers.services import broker_for
from trading.contracts import parse_symbol, ticks_to_price
from trading.models import Order
from trading.orders import order_cancel, position_flatten
from trading.orders_copy import copy_oco_place_once, copy_order_place_once
from trading.position_lock import position_lock

LOCK_WAIT_SECONDS = 10.0
ACTIONS = ("buy", "sell", "close")


class ManualTradeError(ValueError):
    """The panel's request cannot be carried out; the message says why in words."""


@dataclass(frozen=True)
class ManualResult:
    held_before: int
    held_after: int
    words: str


def leader_trade(
    *,
    group: CopyGroup,
    action: str,
    symbol: str,
    qty: int = 1,
    tp_ticks: int | None = None,
    stop_ticks: int | None = None,
    press: str = "",
) -> ManualResult:
    """Trade the group's leader (see the module). ``press`` identifies the button press (the
    form sends one per page load), so the same press sent twice trades once."""
    if action not in ACTIONS:
        raise ManualTradeError(f"Unknown action {action!r}: buy, sell or close.")
    if action != "close" and qty < 1:
        raise ManualTradeError("The quantity must be at least 1 contract.")
    try:
        contract = parse_symbol(symbol)
    except ValueError as exc:
        raise ManualTradeError(f"{symbol}: {exc}") from None
    name, spec = contract.tradovate_name, contract.spec
    leader = group.leader
    account_id = leader.broker_account_id
    press = press or str(time.time_ns())
    with position_lock(subaccount=leader, symbol=name, timeout=LOCK_WAIT_SECONDS):
        broker = broker_for(connection=leader.connection)
        try:
            held = position_read(broker, account_id=account_id, symbol=name)
            if action == "close":
                for order in held.working_orders:
                    with contextlib.suppress(BrokerRejected):  # it ended meanwhile
                        order_cancel(broker, subaccount=leader, order_id=order.order_id)
                if held.net_pos != 0:
                    position_flatten(
                        broker,
                        subaccount=leader,
                        contract_id=broker.contract(name=name).id,
                        symbol=name,
                        net_pos=held.net_pos,
                    )
                after = position_wait(
                    broker, account_id=account_id, symbol=name, until=lambda pos: pos == 0
                ).net_pos
                return ManualResult(held.net_pos, after, f"{leader.name} {name} closed")
            side = Side.BUY if action == "buy" else Side.SELL
            wanted = held.net_pos + (qty if side is Side.BUY else -qty)
            request = OrderRequest(
                account_id=account_id,
                account_name=leader.name,
                symbol=name,
                side=side,
                qty=qty,
                order_type=OrderType.MARKET,
                cl_ord_id=f"mp{group.pk}-{press}"[:64],
            )
            copy_order_place_once(broker, subaccount=leader, request=request, for_copy=False)
            filled = position_wait(
                broker, account_id=account_id, symbol=name, until=lambda pos: pos == wanted
            )
            words = f"{side.value} {qty} {name} on {leader.name}: {held.net_pos:+d} -> "
            words += f"{filled.net_pos:+d}"
            if filled.net_pos != wanted or filled.net_price is None:
                return ManualResult(held.net_pos, filled.net_pos, words + " (not filled yet)")
            if tp_ticks or stop_ticks:
                closing = Side.SELL if filled.net_pos > 0 else Side.BUY
                sign = Decimal(1 if filled.net_pos > 0 else -1)
                price = filled.net_price
                exits = {
                    "take_profit": None
                    if not tp_ticks
                    else price + sign * ticks_to_price(tp_ticks, spec),
                    "stop": None
                    if not stop_ticks
                    else price - sign * ticks_to_price(stop_ticks, spec),
                }
                _exits_place(
                    broker, group, leader, name, closing, abs(filled.net_pos), exits, press
                )
                words += "; " + ", ".join(
                    f"{k.replace('_', '-')} {v}" for k, v in exits.items() if v is not None
                )
            return ManualResult(held.net_pos, filled.net_pos, words)
        finally:
            broker.close()


def _exits_place(
    broker: Broker,
    group: CopyGroup,
    leader: Subaccount,
    name: str,
    closing: Side,
    qty: int,
    exits: dict[str, Decimal | None],
    press: str,
) -> None:
    requests = {
        role: OrderRequest(
            account_id=leader.broker_account_id,
            account_name=leader.name,
            symbol=name,
            side=closing,
            qty=qty,
            order_type=OrderType.LIMIT if role == "take_profit" else OrderType.STOP,
            price=price if role == "take_profit" else None,
            stop_price=price if role == "stop" else None,
            cl_ord_id=f"mp{group.pk}-{press}-{'tp' if role == 'take_profit' else 'sl'}"[:64],
        )
        for role, price in exits.items()
        if price is not None
    }
    if len(requests) == 2:
        copy_oco_place_once(
            broker,
            subaccount=leader,
            take_profit=requests["take_profit"],
            stop=requests["stop"],
            for_copy=False,
        )
        return
    for role, request in requests.items():
        copy_order_place_once(
            broker,
            subaccount=leader,
            request=request,
            role=Order.Role.TAKE_PROFIT if role == "take_profit" else Order.Role.STOP,
            for_copy=False,
        )
