"""Parsing TradingView alert bodies: one schema, one action table, explicit nulls (D11, D46).

Accepted spellings (first match wins; an explicit ``null`` counts as absent):

| field | keys |
|---|---|
| action | ``action``, ``side``, ``order_action`` |
| market position | ``market_position``, ``marketPosition``, ``position`` |
| symbol | ``ticker``, ``symbol``, ``instrument`` |
| quantity | ``quantity``, ``qty``, ``contracts``, ``size`` |
| price | ``price``, ``close`` |
| take-profit price | ``take_profit``, ``takeProfit``, ``tp`` |
| stop price | ``stop_loss``, ``stopLoss``, ``sl``, ``stop`` |
| alert id (dedup) | ``id``, ``alert_id`` |

Actions: buy/long -> BUY, sell/short -> SELL, close/exit/flat/flatten -> CLOSE. When a strategy
alert carries ``market_position`` it decides: flat -> CLOSE, long -> BUY, short -> SELL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from trading.engine import Action

ACTIONS: dict[str, Action] = {
    "buy": Action.BUY,
    "long": Action.BUY,
    "sell": Action.SELL,
    "short": Action.SELL,
    "close": Action.CLOSE,
    "exit": Action.CLOSE,
    "flat": Action.CLOSE,
    "flatten": Action.CLOSE,
}
MARKET_POSITIONS: dict[str, Action] = {
    "flat": Action.CLOSE,
    "long": Action.BUY,
    "short": Action.SELL,
}

KEYS: dict[str, tuple[str, ...]] = {
    "action": ("action", "side", "order_action"),
    "market_position": ("market_position", "marketPosition", "position"),
    "symbol": ("ticker", "symbol", "instrument"),
    "quantity": ("quantity", "qty", "contracts", "size"),
    "price": ("price", "close"),
    "take_profit_price": ("take_profit", "takeProfit", "tp"),
    "stop_price": ("stop_loss", "stopLoss", "sl", "stop"),
    "alert_id": ("id", "alert_id"),
}
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 20  # levels of {...} / [...] an alert may nest (TradingView's have one)
MAX_DIGITS = 40


class AlertError(ValueError):
    """The alert cannot be used; the message says why and what to send instead."""


@dataclass(frozen=True)
class ParsedAlert:
    action: Action
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None
    take_profit_price: Decimal | None
    stop_price: Decimal | None
    alert_id: str | None
    fields: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "symbol": self.symbol,
            "quantity": _text(self.quantity),
            "price": _text(self.price),
            "take_profit_price": _text(self.take_profit_price),
            "stop_price": _text(self.stop_price),
            "alert_id": self.alert_id,
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def decode_body(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise AlertError(f"The alert body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AlertError("The alert body is not UTF-8 text.") from None
    if text.strip() == "":
        raise AlertError(
            "The alert body is empty. Paste the alert message shown on the strategy page."
        )
    if "\x00" in text:
        raise AlertError("The alert body contains a NUL character (a zero byte); remove it.")
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise AlertError(
            f"The alert body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}). "
            "Paste the alert message shown on the strategy page into TradingView's Message box."
        ) from None
    except AlertError:  # NaN or Infinity (a ValueError too: raised as it is)
        raise
    except RecursionError:
        raise AlertError(
            f"The alert body is nested too deeply (the limit is {MAX_DEPTH} levels)."
        ) from None
    except ValueError as exc:  # an integer of thousands of digits (Python's own limit)
        raise AlertError(f"The alert body has a number too long to read: {exc}.") from None
    if not isinstance(data, dict):
        raise AlertError(f"The alert body is JSON {type(data).__name__}, not an object {{...}}.")
    _storable(data, depth=1)
    return data


def _no_constant(name: str) -> Any:
    raise AlertError(
        f"The alert body has {name}, which is not a number: send a price or leave it out."
    )


def _storable(value: Any, *, depth: int) -> None:
    """Refuse what the database cannot keep: NUL characters (JSON's \\u0000), lone halves of
    surrogate pairs (\\ud800) and nesting past ``MAX_DEPTH``; numbers of over
    ``MAX_DIGITS`` digits (a price has a dozen)."""
    if depth > MAX_DEPTH:
        raise AlertError(f"The alert body is nested too deeply (the limit is {MAX_DEPTH} levels).")
    if isinstance(value, dict):
        for key, item in value.items():
            _storable(key, depth=depth)
            _storable(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth=depth + 1)
    elif isinstance(value, str):
        if "\x00" in value:
            raise AlertError("The alert has a NUL character (\\u0000) in its text; remove it.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise AlertError(
                "The alert has half of a surrogate pair (like \\ud800) in its text: not a "
                "character. Remove it."
            ) from None
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        digits = len(str(abs(value)))
        if digits > MAX_DIGITS:
            raise AlertError(f"The alert has a number of {digits} digits (at most {MAX_DIGITS}).")


def _first(data: dict[str, Any], field: str) -> tuple[str | None, Any]:
    for key in KEYS[field]:
        if key in data and data[key] is not None and data[key] != "":
            return key, data[key]
    return None, None


def _decimal(data: dict[str, Any], field: str, *, positive: bool = True) -> Decimal | None:
    key, value = _first(data, field)
    if key is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise AlertError(f"'{key}' must be a number, got {json.dumps(value, default=str)}.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise AlertError(
            f"'{key}' must be a number, got {json.dumps(value, default=str)}."
        ) from None
    if not number.is_finite() or (positive and number <= 0):
        raise AlertError(f"'{key}' must be a positive number, got {value}.")
    return number


def parse_alert(data: dict[str, Any]) -> ParsedAlert:
    """The alert as typed fields, or ``AlertError`` saying exactly what is wrong."""
    position_key, position = _first(data, "market_position")
    action_key, action_word = _first(data, "action")
    action: Action | None = None
    if position_key is not None:
        action = MARKET_POSITIONS.get(str(position).strip().lower())
        if action is None:
            raise AlertError(
                f"'{position_key}' is {json.dumps(position, default=str)}; "
                f"accepted: {', '.join(MARKET_POSITIONS)}."
            )
    elif action_key is not None:
        action = ACTIONS.get(str(action_word).strip().lower())
        if action is None:
            raise AlertError(
                f"'{action_key}' is {json.dumps(action_word, default=str)}; "
                f"accepted: {', '.join(ACTIONS)}."
            )
    else:
        raise AlertError(
            'The alert has no action: add "action": "buy" | "sell" | "close" '
            '(or "market_position" for strategy alerts).'
        )
    symbol_key, symbol = _first(data, "symbol")
    if symbol_key is not None and not isinstance(symbol, str):
        raise AlertError(f'\'{symbol_key}\' must be text like "MNQZ2026" or "NQ1!".')
    quantity = _decimal(data, "quantity")
    if quantity is not None and quantity != quantity.to_integral_value():
        raise AlertError(f"The quantity must be whole contracts, got {quantity}.")
    _, alert_id = _first(data, "alert_id")
    return ParsedAlert(
        action=action,
        symbol=symbol.strip() if isinstance(symbol, str) else None,
        quantity=quantity,
        price=_decimal(data, "price"),
        take_profit_price=_decimal(data, "take_profit_price"),
        stop_price=_decimal(data, "stop_price"),
        alert_id=str(alert_id)[:100] if alert_id is not None else None,
        fields=dict(data),
    )
