"""What the browser's live channel says about the broker mirror, and sending it.

One builder per kind of row (position, order, fill, outcome) makes the frame both the
connect-time snapshot (``trading.selectors.live_snapshot``) and every later change
(``mirror_changes_publish``) are made of, and the dashboard renders on the server: one shape
everywhere. A frame holds only JSON values (prices as strings, exactly as stored) and the
words a page shows (``*_text``), so pages never format a price or a state themselves.

Channels is at-most-once (DESIGN.md §2): a frame lost on the way is healed by the next
snapshot (every reconnect gets one); nothing that must happen depends on a frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.urls import reverse

from accounts.models import Subaccount
from trading.contracts import InvalidSymbolError, UnknownContractError, parse_symbol
from trading.last_prices import last_price_get
from trading.live import live_send_many
from trading.models import CashBalance, Fill, Order, Position, SignalOutcome
from trading.templatetags.display import EMPTY, at_tick

logger = logging.getLogger(__name__)

Frame = dict[str, Any]


def _text(value: Decimal | None) -> str | None:
    """A number as a plain string without trailing zeros: the same whether it was just
    computed or read back from a column with 8 decimal places."""
    return None if value is None else f"{value.normalize():f}"


def money_text(value: Decimal | None) -> str:
    """``+$1,250.00`` / ``-$37.50`` / ``$0.00``; ``—`` when unknown."""
    if value is None:
        return EMPTY
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def position_words(net_pos: int) -> str:
    """``long 2`` / ``short 1`` / ``flat``: the side in words, never a bare sign."""
    if net_pos > 0:
        return f"long {net_pos}"
    if net_pos < 0:
        return f"short {-net_pos}"
    return "flat"


def account_frame(subaccount: Subaccount) -> Frame:
    """The account a row belongs to, as every frame names it (``connection`` must be loaded)."""
    return {
        "id": subaccount.pk,
        "name": subaccount.name,
        "number": subaccount.broker_account_id,
        "connection": subaccount.connection.label,
        "close_url": reverse("trading:account_close", args=[subaccount.pk]),
    }


def position_last_price(*, position: Position) -> Decimal | None:
    """The market's last price of the position's contract, as its login's market-data socket
    said it in the last minute (`trading.last_prices`), or None (open P&L shows ``—``): the
    feed is down, or the streams process has not quoted the contract yet. Never raises."""
    return last_price_get(
        connection_pk=position.subaccount.connection_id, contract_id=position.contract_id
    )


def open_pnl(*, position: Position, last_price: Decimal | None) -> Decimal | None:
    """Open P&L in currency at ``last_price``: (last - average) x net x $ per point; None when
    the last price, the average price or the contract is unknown."""
    if last_price is None or position.net_price is None or position.net_pos == 0:
        return None
    try:
        per_point = parse_symbol(position.symbol).spec.value_per_point
    except (InvalidSymbolError, UnknownContractError, ValueError):
        return None
    return ((last_price - position.net_price) * position.net_pos * per_point).quantize(
        Decimal("0.01")
    )


def position_frame(position: Position, *, last_price: Decimal | None = None) -> Frame:
    pnl = open_pnl(position=position, last_price=last_price)
    account = account_frame(position.subaccount)
    return {
        "kind": "position",
        "id": position.pk,
        "account": account,
        "contract_id": position.contract_id,
        "symbol": position.symbol,
        "net_pos": position.net_pos,
        "net_pos_text": position_words(position.net_pos),
        "net_price": _text(position.net_price),
        "net_price_text": at_tick(position.net_price, position.symbol),
        "realized_pnl": _text(position.realized_pnl),
        "realized_pnl_text": money_text(position.realized_pnl),
        "last_price": _text(last_price),
        "open_pnl": _text(pnl),
        "open_pnl_text": money_text(pnl),
        "flat": position.net_pos == 0,
        # What reconciliation found wrong (e.g. our stop is gone at the broker); "" = nothing.
        "problem": position.problem,
        "close_url": f"{account['close_url']}?contract={position.contract_id}",
        "updated_at": position.updated_at.isoformat(),
    }


def _signal_url(signal_id: int | None) -> str | None:
    return None if signal_id is None else reverse("trading:signal_detail", args=[signal_id])


def order_frame(order: Order) -> Frame:
    is_open = order.state in Order.OPEN_STATES
    return {
        "kind": "order",
        "id": order.pk,
        "account": account_frame(order.subaccount),
        "symbol": order.symbol,
        "role": order.role,
        "role_text": order.get_role_display(),
        "side": order.side,
        "qty": order.qty,
        "order_type": order.order_type,
        "price": _text(order.price),
        "price_text": at_tick(order.price, order.symbol),
        "stop_price": _text(order.stop_price),
        "stop_price_text": at_tick(order.stop_price, order.symbol),
        "state": order.state,
        "state_text": order.get_state_display(),
        "filled_qty": order.filled_qty,
        "avg_fill_price": _text(order.avg_fill_price),
        "avg_fill_price_text": at_tick(order.avg_fill_price, order.symbol),
        "signal_id": order.signal_id,
        "signal_url": _signal_url(order.signal_id),
        "outcome_id": order.outcome_id,
        "external": order.external,
        "open": is_open,
    }


def fill_frame(fill: Fill) -> Frame:
    return {
        "kind": "fill",
        "id": fill.pk,
        "account": account_frame(fill.subaccount),
        "order_id": fill.order_id,
        "signal_id": fill.order.signal_id if fill.order is not None else None,
        "symbol": fill.symbol,
        "side": fill.side,
        "qty": fill.qty,
        "price": _text(fill.price),
        "price_text": at_tick(fill.price, fill.symbol),
        "filled_at": fill.filled_at.isoformat(),
    }


def outcome_frame(outcome: SignalOutcome) -> Frame:
    return {
        "kind": "outcome",
        "id": outcome.pk,
        "signal_id": outcome.signal_id,
        "account": account_frame(outcome.subaccount),
        "status": outcome.status,
        "status_text": outcome.get_status_display(),
    }


def cash_frame(cash: CashBalance | None) -> Frame | None:
    if cash is None:
        return None
    return {
        "amount": _text(cash.amount),
        "amount_text": money_text(cash.amount).lstrip("+"),
        "realized_pnl": _text(cash.realized_pnl),
        "realized_pnl_text": money_text(cash.realized_pnl),
    }


def cash_changed_frame(cash: CashBalance) -> Frame:
    """An account's balance changed (a fill settled, the trade date rolled)."""
    return {
        "kind": "cash",
        "id": cash.pk,
        "account": account_frame(cash.subaccount),
        **(cash_frame(cash) or {}),
    }


def _built(user_id: int, kind: str, rows: Iterable[Any], build: Any) -> list[Frame]:
    frames = []
    for row in rows:
        try:
            frames.append(build(row))
        except Exception:
            logger.exception("live %s frame for row %s of user %s not built", kind, row.pk, user_id)
    return frames


def mirror_changes_publish(
    *,
    user_id: int,
    order_pks: Iterable[int] = (),
    position_pks: Iterable[int] = (),
    fill_pks: Iterable[int] = (),
    outcome_pks: Iterable[int] = (),
    cash_pks: Iterable[int] = (),
) -> None:
    """Send the user's open tabs one frame per changed row, read now (so the frame says the
    row's committed state, whatever it was told). Rows of other users are never read: a pk
    that is not ``user_id``'s sends nothing. Called after the change has committed; never
    raises (Channels is at-most-once: a lost frame is healed by the next snapshot)."""
    # selectors builds its snapshot from the builders above, so it is imported here.
    from trading import selectors

    try:
        changed = selectors.live_changed_rows(
            user_id=user_id,
            order_pks=order_pks,
            position_pks=position_pks,
            fill_pks=fill_pks,
            outcome_pks=outcome_pks,
            cash_pks=cash_pks,
        )
        frames = [
            *_built(
                user_id,
                "position",
                changed.positions,
                lambda p: position_frame(p, last_price=position_last_price(position=p)),
            ),
            *_built(user_id, "order", changed.orders, order_frame),
            *_built(user_id, "fill", changed.fills, fill_frame),
            *_built(user_id, "outcome", changed.outcomes, outcome_frame),
            *_built(user_id, "cash", changed.cash, cash_changed_frame),
        ]
        live_send_many(user_id=user_id, payloads=frames)
    except Exception:
        logger.exception("live frames of user %s not sent", user_id)
