"""Copy-trading orders: a follower's (``for_copy``: their fills are never copied on) and the
copy panel's on a leader (copied like any leader trade); sent once, rows before calls.

Part of the order lifecycle with `trading.orders` (the calls) and `trading.order_states` (the
states): a copy order's row is written before its call; a row an earlier run left is looked up
by its clOrdId and never sent again.
"""

from __future__ import annotations

from accounts.models import Subaccount
from trading.brokers.base import Broker, BrokerError, OrderRequest, OrderType, Side
from trading.in_doubt import InDoubt, order_mark_in_doubt, order_settle_by_lookup
from trading.models import Order
from trading.order_states import order_accepted
from trading.orders import _row_for, _row_write, refused_or_in_doubt


def copy_order_place_once(
    broker: Broker,
    *,
    subaccount: Subaccount,
    request: OrderRequest,
    role: str = Order.Role.ENTRY,
    for_copy: bool = True,
) -> Order:
    """A follower's order for one leader fill, sent once: its row (keyed by the deterministic
    clOrdId of leader fill and follower) is written before the call. A row an earlier run left
    is never sent again: it is looked up by its clOrdId (InDoubt while the broker does not
    have it; reconciliation settles it when it turns up)."""
    row, created = _row_write(
        subaccount=subaccount,
        signal=None,
        outcome=None,
        request=request,
        role=role,
        for_copy=for_copy,
    )
    if not created:
        _copy_row_settle(broker, subaccount=subaccount, row=row)
        return row
    try:
        placed = broker.place_order(request)
    except BrokerError as exc:
        refused_or_in_doubt(exc, row, what="placing the copy order")
        raise
    order_accepted(row, broker_order_id=placed.order_id)
    return row


def _copy_row_settle(broker: Broker, *, subaccount: Subaccount, row: Order) -> None:
    """A copy row an earlier run wrote: looked up by its clOrdId when its answer was never
    recorded (InDoubt while the broker does not have it); never sent again."""
    if row.broker_order_id is None and row.state in (Order.State.SUBMITTED, Order.State.IN_DOUBT):
        if not order_settle_by_lookup(broker, row, account_id=subaccount.broker_account_id):
            order_mark_in_doubt(row, error=InDoubt("its run ended before the broker answered"))
            raise InDoubt(f"the copy order {row.cl_ord_id} is not at the broker yet")


def copy_oco_place_once(
    broker: Broker,
    *,
    subaccount: Subaccount,
    take_profit: OrderRequest,
    stop: OrderRequest,
    for_copy: bool = True,
) -> tuple[Order, Order]:
    """A follower's take-profit + stop pair (one-cancels-other) mirroring a leader's pair, sent
    once: both rows before the call; rows an earlier run left are looked up, never re-sent."""
    tp_row, created = _row_write(
        subaccount=subaccount,
        signal=None,
        outcome=None,
        request=take_profit,
        role=Order.Role.TAKE_PROFIT,
        for_copy=for_copy,
    )
    stop_row, _ = _row_write(
        subaccount=subaccount,
        signal=None,
        outcome=None,
        request=stop,
        role=Order.Role.STOP,
        for_copy=for_copy,
    )
    if not created:
        for row in (tp_row, stop_row):
            _copy_row_settle(broker, subaccount=subaccount, row=row)
        return tp_row, stop_row
    try:
        placed = broker.place_oco(take_profit, stop)
    except BrokerError as exc:
        refused_or_in_doubt(exc, tp_row, stop_row, what="placing the copied take-profit + stop")
        raise
    order_accepted(tp_row, broker_order_id=placed.order_id)
    order_accepted(stop_row, broker_order_id=placed.other_order_id)
    return tp_row, stop_row


def copy_delta_request(
    *, subaccount: Subaccount, symbol: str, delta: int, cl_ord_id: str
) -> OrderRequest:
    """A follower's market order of ``delta`` contracts (positive buys, negative sells)."""
    return OrderRequest(
        account_id=subaccount.broker_account_id,
        account_name=subaccount.name,
        symbol=symbol,
        side=Side.BUY if delta > 0 else Side.SELL,
        qty=abs(delta) or 1,  # 0 only for a row already sent: looked up, not sent
        order_type=OrderType.MARKET,
        cl_ord_id=cl_ord_id,
    )


def copy_delta_place_once(
    broker: Broker, *, subaccount: Subaccount, symbol: str, delta: int, cl_ord_id: str
) -> Order:
    """`copy_delta_request` sent once under ``cl_ord_id`` (a row an earlier run left is looked
    up, never re-sent)."""
    return copy_order_place_once(
        broker,
        subaccount=subaccount,
        request=copy_delta_request(
            subaccount=subaccount, symbol=symbol, delta=delta, cl_ord_id=cl_ord_id
        ),
    )


def copy_rows_create(items: list[tuple[Subaccount, OrderRequest]]) -> list[Order]:
    """The rows of many followers' copy orders (``for_copy``, role entry), written in one insert
    before any of their calls; in the order given. The caller holds each follower position's
    lock and has seen no row under these clOrdIds (a row an earlier run left is never
    re-sent: that follower goes through `copy_order_place_once`, which looks it up)."""
    entry = Order.Role.ENTRY
    rows = [
        _row_for(subaccount=s, signal=None, outcome=None, request=r, role=entry, for_copy=True)
        for s, r in items
    ]
    return Order.objects.bulk_create(rows)
