"""Order rows and the broker calls that place them, exactly once (DESIGN.md §5 rule 2).

Every order has a deterministic clOrdId (signal, account, step) and its row written before the
call. A row an earlier run left behind is settled before anything is sent: the broker has it
(its id and state are recorded), or it is in doubt (looked up, never sent twice:
trading/in_doubt.py), or it never arrived (an entry is then not sent again; an exit is, under
a new clOrdId). A close (liquidateposition) carries no clOrdId: it is settled by the position.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Subaccount
from trading.broker_view import position_read, position_wait
from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerRateLimited,
    BrokerRejected,
    OrderRequest,
    OrderType,
    Side,
    WorkingOrder,
)
from trading.contracts import ContractSymbol
from trading.engine import BrokerView
from trading.in_doubt import (
    InDoubt,
    lookups_exhausted,
    order_mark_in_doubt,
    order_mark_never_placed,
    order_settle_by_lookup,
)
from trading.models import Order, SignalOutcome
from trading.order_states import Source, order_accepted, order_move, order_observe

# A call is answered or times out within TRADOVATE_TIMEOUT_SECONDS; this much longer, an order
# the broker does not show was never sent (see `sent_order_fate`).
UNSENT_GRACE_SECONDS = 5.0


def cl_ord_id_for(outcome: SignalOutcome, step: str) -> str:
    return f"bk{outcome.signal_id}-{outcome.trader_account_id}-{step}"


def entry_request(*, outcome: SignalOutcome, contract: ContractSymbol, entry: Any) -> OrderRequest:
    """The market order of a plan's ``entry`` step (its side and quantity) on the outcome's
    account, under the outcome's entry clOrdId."""
    subaccount = outcome.subaccount
    return OrderRequest(
        account_id=subaccount.broker_account_id,
        account_name=subaccount.name,
        symbol=contract.tradovate_name,
        side=entry.side,
        qty=entry.qty,
        order_type=OrderType.MARKET,
        cl_ord_id=cl_ord_id_for(outcome, "entry"),
    )


@dataclasses.dataclass(frozen=True)
class ExitCall:
    """One exit call: a take-profit with its stop for the same quantity (OCO), or either alone."""

    number: int
    take_profit: OrderRequest | None
    stop: OrderRequest | None


def exit_calls(*, outcome: SignalOutcome, contract: ContractSymbol, exits: Any) -> list[ExitCall]:
    """The exits' calls: each take-profit is paired (OCO) with a stop for its own quantity, so a
    filled level takes its stop with it and the remaining stops always equal the remaining
    position; a stop alone when there is no take-profit."""
    subaccount = outcome.subaccount

    def order(
        side: Side,
        qty: int,
        order_type: OrderType,
        step: str,
        *,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> OrderRequest:
        return OrderRequest(
            account_id=subaccount.broker_account_id,
            account_name=subaccount.name,
            symbol=contract.tradovate_name,
            side=side,
            qty=qty,
            order_type=order_type,
            price=price,
            stop_price=stop_price,
            cl_ord_id=cl_ord_id_for(outcome, step),
        )

    stop = exits.stop
    if not exits.take_profits:
        if stop is None:
            return []
        sl = order(stop.side, stop.qty, OrderType.STOP, "sl", stop_price=stop.price)
        return [ExitCall(number=0, take_profit=None, stop=sl)]
    return [
        ExitCall(
            number=number,
            take_profit=order(tp.side, tp.qty, OrderType.LIMIT, f"tp{number}", price=tp.price),
            stop=None
            if stop is None
            else order(stop.side, tp.qty, OrderType.STOP, f"sl{number}", stop_price=stop.price),
        )
        for number, tp in enumerate(exits.take_profits, start=1)
    ]


def exits_place(
    broker: Broker, *, outcome: SignalOutcome, contract: ContractSymbol, exits: Any
) -> None:
    """Place the exits' calls (`exit_calls`), each exactly once."""
    for call in exit_calls(outcome=outcome, contract=contract, exits=exits):
        if call.take_profit is not None and call.stop is not None:
            oco_place_once(
                broker,
                outcome=outcome,
                number=call.number,
                take_profit=call.take_profit,
                stop=call.stop,
            )
        elif call.stop is not None:
            order_place_once(broker, outcome=outcome, role=Order.Role.STOP, request=call.stop)
        elif call.take_profit is not None:
            order_place_once(
                broker, outcome=outcome, role=Order.Role.TAKE_PROFIT, request=call.take_profit
            )


def position_close_once(
    broker: Broker, *, outcome: SignalOutcome, contract: ContractSymbol, resuming: bool
) -> BrokerView:
    """Close the position at market (Tradovate's liquidateposition), as an Order row of role
    flatten written before the call. That call carries no clOrdId, so a close in doubt is
    settled by the position: flat -> filled; not flat -> still in doubt while the look-up
    schedule lasts (it may yet arrive), then closed again under a new id."""
    account_id = outcome.subaccount.broker_account_id
    symbol = contract.tradovate_name
    view = position_read(broker, account_id=account_id, symbol=symbol)
    cl_ord_id = cl_ord_id_for(outcome, "close")
    earlier = (
        list(Order.objects.filter(outcome=outcome, role=Order.Role.FLATTEN).order_by("id"))
        if resuming
        else []
    )
    if earlier:
        last = earlier[-1]
        cl_ord_id = f"{last.cl_ord_id}r"
        if last.state in (Order.State.SUBMITTED, Order.State.IN_DOUBT, Order.State.WORKING):
            if view.net_pos == 0:
                order_observe(last, state=Order.State.FILLED, source=Source.READ)
                return view
            if last.state == Order.State.WORKING:
                return position_wait(
                    broker, account_id=account_id, symbol=symbol, until=lambda pos: pos == 0
                )
            if not lookups_exhausted(outcome):
                order_mark_in_doubt(last, error=InDoubt("no answer to the close"))
                raise InDoubt(
                    f"the close {last.cl_ord_id} is not confirmed: the position is still "
                    f"{view.net_pos}"
                )
            order_mark_never_placed(last, lookups=outcome.lookups)
    if view.net_pos == 0:
        return view
    request = OrderRequest(
        account_id=account_id,
        account_name=outcome.subaccount.name,
        symbol=symbol,
        side=Side.SELL if view.net_pos > 0 else Side.BUY,
        qty=abs(view.net_pos),
        order_type=OrderType.MARKET,
        cl_ord_id=cl_ord_id,
    )
    row, _ = order_row_write(outcome, request, Order.Role.FLATTEN)
    contract_id = broker.contract(name=symbol).id
    try:
        order_id = broker.flatten(account_id=account_id, contract_id=contract_id)
    except BrokerError as exc:
        refused_or_in_doubt(exc, row, what=f"closing the position of {view.net_pos}")
        raise
    order_accepted(row, broker_order_id=order_id)
    view = position_wait(broker, account_id=account_id, symbol=symbol, until=lambda pos: pos == 0)
    if view.net_pos == 0:
        order_observe(row, state=Order.State.FILLED, source=Source.READ)
    return view


def refused_or_in_doubt(exc: BrokerError, *rows: Order, what: str) -> None:
    """An order call failed: an ambiguous failure puts its rows in doubt and raises InDoubt; a
    rate limit (429, a penalty, the login's cooldown: the order was not taken) marks them
    never placed, so a resumed run sends an exit again under a new clOrdId (a rejected row
    counts as answered and would leave the position without its stop); any other definite
    failure marks them rejected. The caller re-raises."""
    if exc.ambiguous:
        order_mark_in_doubt(*rows, error=exc)
        raise InDoubt(f"no answer {what} ({exc})") from exc
    for row in rows:
        if isinstance(exc, BrokerRateLimited):
            order_mark_in_doubt(row, error=exc)
            order_move(
                row,
                Order.State.NEVER_PLACED,
                words=exc.broker_text,
                error=f"not taken by the broker: {exc}",
            )
        else:
            order_move(row, Order.State.REJECTED, words=exc.broker_text, error=str(exc))


def order_row_write(outcome: SignalOutcome, request: OrderRequest, role: str) -> tuple[Order, bool]:
    """The order's row before its call: a new row is written as SUBMITTED ("sent, answer
    unknown") in one insert; an existing one (an earlier, interrupted run) is returned as it is,
    with ``False``."""
    return _row_write(
        subaccount=outcome.subaccount,
        signal=outcome.signal,
        outcome=outcome,
        request=request,
        role=role,
    )


def _row_for(
    *,
    subaccount: Subaccount,
    signal: Any,
    outcome: SignalOutcome | None,
    request: OrderRequest,
    role: str,
    for_copy: bool = False,
) -> Order:
    """The order's row as it is born: SUBMITTED, "sent, answer unknown" (not saved here)."""
    return Order(
        for_copy=for_copy,
        cl_ord_id=request.cl_ord_id,
        subaccount=subaccount,
        signal=signal,
        outcome=outcome,
        symbol=request.symbol,
        side=request.side.value,
        qty=request.qty,
        order_type=request.order_type.value,
        price=request.price,
        stop_price=request.stop_price,
        role=role,
        state=Order.State.SUBMITTED,
    )


def _row_write(
    *,
    subaccount: Subaccount,
    signal: Any,
    outcome: SignalOutcome | None,
    request: OrderRequest,
    role: str,
    for_copy: bool = False,
) -> tuple[Order, bool]:
    row = _row_for(
        subaccount=subaccount,
        signal=signal,
        outcome=outcome,
        request=request,
        role=role,
        for_copy=for_copy,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return Order.objects.get(cl_ord_id=request.cl_ord_id), False
    return row, True


def order_rows_create(items: list[tuple[SignalOutcome, OrderRequest, str]]) -> list[Order]:
    """The rows of many orders of fresh outcomes (``(outcome, request, role)``), written in one
    insert before any of their calls; in the order given. A fresh outcome has no rows yet (its
    decision is stored before its rows), so nothing here can already exist."""
    return Order.objects.bulk_create(
        [
            _row_for(
                subaccount=outcome.subaccount,
                signal=outcome.signal,
                outcome=outcome,
                request=request,
                role=role,
            )
            for outcome, request, role in items
        ]
    )


def order_modify(
    broker: Broker,
    *,
    row: Order,
    qty: int,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> None:
    """Change our working order ``row`` (quantity, limit or stop price); the row takes the new
    values. A refusal keeps the broker's words on the row and is raised."""
    try:
        broker.modify_order(
            order_id=row.broker_order_id or 0,
            qty=qty,
            order_type=OrderType(row.order_type),
            price=price,
            stop_price=stop_price,
        )
    except BrokerError as exc:
        order_observe(row, source=Source.CALL, error=f"changing it was refused: {exc}")
        raise
    order_observe(row, source=Source.CALL, error="", qty=qty, price=price, stop_price=stop_price)


def orders_submitted(*rows: Order) -> None:
    for row in rows:
        if row.state != Order.State.SUBMITTED:
            order_move(row, Order.State.SUBMITTED)


def sent_order_fate(broker: Broker, *, outcome: SignalOutcome, row: Order) -> str:
    """What became of an order row an earlier run wrote: "send" (never sent), "known" (the
    broker has it; the row now says so), "unsent" (its run died with no answer, and well past
    the time its call would have taken the broker has no such order: the call was never made,
    e.g. a worker killed between a fan-out's row insert and its calls), or "lost" (an
    unanswered call looked up for the whole schedule, never there). Raises InDoubt while the
    broker does not have it and it may still arrive, so it is never sent twice."""
    if row.state == Order.State.CREATED:
        return "send"
    if row.state == Order.State.NEVER_PLACED:
        return "lost"
    if row.broker_order_id is not None or row.state not in (
        Order.State.SUBMITTED,
        Order.State.IN_DOUBT,
    ):
        return "known"
    account_id = outcome.subaccount.broker_account_id
    if order_settle_by_lookup(broker, row, account_id=account_id):
        return "known"
    if row.state == Order.State.SUBMITTED:  # its run died: no live call ever timed out on it
        quiet = (timezone.now() - row.created_at).total_seconds()
        if quiet > settings.TRADOVATE_TIMEOUT_SECONDS + UNSENT_GRACE_SECONDS:
            order_mark_in_doubt(row, error=InDoubt("its run ended before the broker answered"))
            order_move(
                row,
                Order.State.NEVER_PLACED,
                source=Source.LOOKUP,
                error=f"its run ended before sending it: the broker has no order {row.cl_ord_id} "
                f"{quiet:.0f} s after its row was written (a call is answered or times out "
                f"within {settings.TRADOVATE_TIMEOUT_SECONDS:.0f} s)",
            )
            return "unsent"
        raise InDoubt(
            f"the {row.get_role_display().lower()} {row.cl_ord_id} is not at the broker yet"
        )
    if lookups_exhausted(outcome):
        order_mark_never_placed(row, lookups=outcome.lookups)
        return "lost"
    raise InDoubt(f"the {row.get_role_display().lower()} {row.cl_ord_id} is not at the broker yet")


def _too_old(signal: Any) -> bool:
    age = (timezone.now() - signal.received_at).total_seconds()
    return age > settings.SIGNAL_MAX_AGE_SECONDS


def request_again(request: OrderRequest) -> OrderRequest:
    """The same order under a new clOrdId: for an order whose first sending never arrived."""
    return dataclasses.replace(request, cl_ord_id=f"{request.cl_ord_id}r")


def order_place_once(
    broker: Broker, *, outcome: SignalOutcome, role: str, request: OrderRequest
) -> Order:
    """Send ``request`` once (its row first); the row, as the broker left it. An exit that
    never reached the broker is sent again under a new clOrdId, so the position keeps its
    protection. An entry is sent again only when it was never sent ("unsent": its run died
    first) and the signal is still younger than SIGNAL_MAX_AGE_SECONDS; otherwise it comes
    back ``never_placed`` (not sent again: the signal is too old by then)."""
    row, created = order_row_write(outcome, request, role)
    if not created:
        fate = sent_order_fate(broker, outcome=outcome, row=row)
        if fate == "known":
            return row
        if role == Order.Role.ENTRY and (fate == "lost" or _too_old(outcome.signal)):
            return row
        if fate in ("lost", "unsent"):
            return order_place_once(
                broker, outcome=outcome, role=role, request=request_again(request)
            )
    orders_submitted(row)
    try:
        placed = broker.place_order(request)
    except BrokerError as exc:
        refused_or_in_doubt(exc, row, what=f"placing the {row.get_role_display().lower()}")
        raise
    order_accepted(row, broker_order_id=placed.order_id)
    return row


def oco_place_once(
    broker: Broker,
    *,
    outcome: SignalOutcome,
    number: int,
    take_profit: OrderRequest,
    stop: OrderRequest,
) -> None:
    tp_row, created = order_row_write(outcome, take_profit, Order.Role.TAKE_PROFIT)
    stop_row, _ = order_row_write(outcome, stop, Order.Role.STOP)
    if not created:
        fates = {sent_order_fate(broker, outcome=outcome, row=row) for row in (tp_row, stop_row)}
        if fates == {"known"}:
            return
        if fates & {"lost", "unsent"}:  # the pair never arrived: send it again, never half
            for row in (tp_row, stop_row):
                if row.state != Order.State.NEVER_PLACED:
                    order_mark_never_placed(row, lookups=outcome.lookups)
            oco_place_once(
                broker,
                outcome=outcome,
                number=number,
                take_profit=request_again(take_profit),
                stop=request_again(stop),
            )
            return
    orders_submitted(tp_row, stop_row)
    try:
        placed = broker.place_oco(take_profit, stop)
    except BrokerError as exc:
        refused_or_in_doubt(exc, tp_row, stop_row, what=f"placing take-profit {number} + stop")
        raise
    order_accepted(tp_row, broker_order_id=placed.order_id)
    order_accepted(stop_row, broker_order_id=placed.other_order_id)


def orphans_cancel(broker: Broker, *, outcome: SignalOutcome, view: BrokerView) -> None:
    """Cancel the working orders in ``view`` that are ours (exits left on a flat position)."""
    ours = set(
        Order.objects.filter(
            subaccount=outcome.subaccount,
            broker_order_id__in=[o.order_id for o in view.working_orders],
        ).values_list("broker_order_id", flat=True)
    )
    for order in view.working_orders:
        if order.order_id in ours:
            with contextlib.suppress(BrokerRejected):  # too late: it filled or went already
                order_cancel(broker, subaccount=outcome.subaccount, order_id=order.order_id)


def order_cancel(broker: Broker, *, subaccount: Subaccount, order_id: int) -> None:
    """Ask the broker to cancel its order ``order_id``; our rows of it become "cancel sent"
    (the stream or the next read says cancelled, or filled if the cancel came too late).
    Raises the `BrokerError` (`BrokerRejected` when it had already filled or ended)."""
    broker.cancel_order(order_id=order_id)
    for row in Order.objects.filter(subaccount=subaccount, broker_order_id=order_id):
        order_observe(row, state=Order.State.CANCEL_PENDING, source=Source.CALL)


def orders_settle(broker: Broker, *, subaccount: Subaccount, order_ids: list[int]) -> None:
    """Our rows of these broker orders take the state the broker reports now (one read): what
    a cancel became, without waiting for the stream."""
    if not order_ids:
        return
    statuses = broker.order_statuses(account_id=subaccount.broker_account_id)
    for row in Order.objects.filter(subaccount=subaccount, broker_order_id__in=order_ids):
        status = statuses.get(row.broker_order_id or 0)
        if status:
            order_observe(row, status=status, source=Source.READ)


def position_flatten(
    broker: Broker, *, subaccount: Subaccount, contract_id: int, symbol: str, net_pos: int
) -> Order:
    """Close ``net_pos`` of ``symbol`` at market (Tradovate's liquidateposition), recorded as an
    Order row of role flatten written before the call. Raises the `BrokerError`; the row says
    rejected, or in doubt when the call went unanswered (the position tells later)."""
    row = Order.objects.create(
        cl_ord_id=f"close-{subaccount.pk}-{contract_id}-{secrets.token_hex(4)}",
        subaccount=subaccount,
        contract_id=contract_id,
        symbol=symbol,
        side=(Side.SELL if net_pos > 0 else Side.BUY).value,
        qty=abs(net_pos),
        order_type=OrderType.MARKET.value,
        role=Order.Role.FLATTEN,
        state=Order.State.SUBMITTED,
    )
    try:
        order_id = broker.flatten(account_id=subaccount.broker_account_id, contract_id=contract_id)
    except BrokerError as exc:
        state = Order.State.IN_DOUBT if exc.ambiguous else Order.State.REJECTED
        order_move(row, state, words=exc.broker_text, error=str(exc))
        raise
    order_accepted(row, broker_order_id=order_id)
    return row


def stop_modify(
    broker: Broker, *, row: Order, order: WorkingOrder, stop_price: Decimal, what: str
) -> None:
    """Move the working stop ``order`` (our ``row``) to ``stop_price``; the row takes the new
    price. A refusal is kept on the row in the broker's words ("{what} was refused: ...") and
    raised."""
    try:
        broker.modify_order(
            order_id=order.order_id,
            qty=order.qty if order.qty is not None else row.qty,
            order_type=OrderType.STOP,
            stop_price=stop_price,
        )
    except BrokerError as exc:
        words = exc.broker_text or str(exc)
        order_observe(row, source=Source.CALL, error=f"{what} was refused: {words}")
        raise
    order_observe(row, source=Source.CALL, error="", stop_price=stop_price)
