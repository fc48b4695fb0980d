"""The market's last price of a contract, as one broker login's market-data socket last said it.

The streams process (`trading.monitor_prices`) stores each quote's last price in Redis; the live
frames read it for open P&L. A price is kept ``LAST_PRICE_TTL_SECONDS`` after it was last
written: the streams process writes it again while its socket is live, so a dead feed (or a
dead process) shows "—" within a minute instead of a stale price that looks current.

Keyed by (broker connection, contract id): Tradovate's contract ids are the broker's, and the
simulator's ids mean other contracts than Tradovate's, so a price is read back only for
positions of the login whose socket said it.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

import redis

from config.redis import redis_client, redis_key

logger = logging.getLogger(__name__)

LAST_PRICE_TTL_SECONDS = 60


def _key(connection_pk: int, contract_id: int) -> str:
    return redis_key("last-price", connection_pk, contract_id)


def last_price_store(*, connection_pk: int, contract_id: int, price: Decimal) -> None:
    """Store ``price`` as the contract's last price for ``LAST_PRICE_TTL_SECONDS``. Raises
    redis errors (the caller logs them; the next quote writes again)."""
    redis_client().set(_key(connection_pk, contract_id), str(price), ex=LAST_PRICE_TTL_SECONDS)


def last_price_forget(*, connection_pk: int, contract_id: int) -> None:
    """No last price for the contract any more (its feed is down). Raises redis errors."""
    redis_client().delete(_key(connection_pk, contract_id))


def last_price_get(*, connection_pk: int, contract_id: int) -> Decimal | None:
    """The stored last price, or None when none was written in the last
    ``LAST_PRICE_TTL_SECONDS`` or Redis cannot be read (logged): never raises."""
    try:
        raw = redis_client().get(_key(connection_pk, contract_id))
    except redis.RedisError:
        logger.exception("last price of contract %s not read", contract_id)
        return None
    if raw is None:
        return None
    try:
        return Decimal(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (InvalidOperation, UnicodeDecodeError):
        logger.warning("last price of contract %s unreadable: %r", contract_id, raw)
        return None
