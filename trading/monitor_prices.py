"""Open P&L in the streams process: quotes for every open position, their last prices stored,
fresh position frames at most once a second.

What it guarantees (`trading.monitor_runner.PositionMonitor` runs it beside the stops):

- `positions_quoted` reads the open mirror positions (net not 0) of active accounts of
  connections in use, by connection: the contracts each login's market-data socket must quote,
  and whose positions each contract prices. The monitor subscribes to them beside the stops'
  symbols; a position gone flat lets go of its symbol unless a stop still needs it.
- `PriceTapes.quote` runs on the event loop for every quote and only records the price: no
  I/O, no thread. Per (connection, contract) at most one flush runs at a time, in the monitor's
  thread pool, and a flush ends at least ``FRAME_SECONDS`` after the previous one ended: it
  stores the last price (`trading.last_prices`), then sends each holder's open tabs a fresh
  position frame (``mirror_changes_publish``, which reads the rows). So a position gets at most
  one price frame a second; a price that moved meanwhile goes out when the second is over (the
  last price of a burst is never lost).
- Flushes hold at most ``slots`` of the pool's threads: evaluations that move stops keep the
  rest.
- While a socket is live and quoting a contract its stored price is written again before it
  expires (a quiet market); a contract whose socket stays down past the price's lifetime gets
  one frame with no price, so its holders see "—", not a stale P&L.
- Every quote also widens the tape's high/low since the last flush; a flush hands them, with
  the positions the contract prices, to the ``prices_seen`` receivers (analytics' MFE/MAE of
  open trades) before the frames, and starts them again. A quick move out and back within
  the second is therefore seen, without storing ticks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from trading.last_prices import LAST_PRICE_TTL_SECONDS, last_price_forget, last_price_store
from trading.live_frames import mirror_changes_publish
from trading.mirror_signals import prices_seen
from trading.models import Position
from trading.monitor import Feed, feed_of

logger = logging.getLogger(__name__)

TapeKey = tuple[int, int]  # (connection pk, contract id)
Holders = dict[int, tuple[int, ...]]  # user id -> pks of that user's positions in the contract
Extremes = tuple[Decimal, Decimal, tuple[int, ...]]  # high, low, the positions they price

FRAME_SECONDS = 1.0  # at most one price frame per position per this many seconds
KEEP_ALIVE_SECONDS = LAST_PRICE_TTL_SECONDS / 3


@dataclass(frozen=True)
class QuotedPositions:
    contracts: dict[int, dict[str, int]]  # connection pk -> symbol -> contract id
    holders: dict[TapeKey, Holders]
    feeds: dict[int, Feed]


def positions_quoted() -> QuotedPositions:
    """Open mirror positions of active accounts of connections not archived, by connection."""
    rows = (
        Position.objects.exclude(net_pos=0)
        .exclude(symbol="")
        .filter(subaccount__active=True, subaccount__connection__archived_at__isnull=True)
        .select_related("subaccount__connection")
        .order_by("id")
    )
    contracts: dict[int, dict[str, int]] = {}
    holders: dict[TapeKey, Holders] = {}
    feeds: dict[int, Feed] = {}
    for position in rows:
        connection = position.subaccount.connection
        contracts.setdefault(connection.pk, {})[position.symbol] = position.contract_id
        by_user = holders.setdefault((connection.pk, position.contract_id), {})
        by_user[connection.user_id] = (*by_user.get(connection.user_id, ()), position.pk)
        if connection.pk not in feeds:
            feeds[connection.pk] = feed_of(connection=connection)
    return QuotedPositions(contracts=contracts, holders=holders, feeds=feeds)


def price_publish(
    *,
    connection_pk: int,
    contract_id: int,
    price: Decimal | None,
    holders: Holders,
    seen: Extremes | None = None,
) -> None:
    """Tell the ``prices_seen`` receivers the range ``seen`` (high, low, position pks), store
    ``price`` (None: forget the stored one), then send each holder a fresh frame of their
    positions in the contract (blocking: a thread). A receiver's failure is logged, never
    stops the price."""
    if seen is not None:
        high, low, position_pks = seen
        for receiver, result in prices_seen.send_robust(
            sender=Position, position_pks=position_pks, high=high, low=low
        ):
            if isinstance(result, Exception):
                logger.error("monitor: prices seen: %r failed: %s", receiver, result)
    if price is None:
        last_price_forget(connection_pk=connection_pk, contract_id=contract_id)
    else:
        last_price_store(connection_pk=connection_pk, contract_id=contract_id, price=price)
    for user_id, position_pks in holders.items():
        mirror_changes_publish(user_id=user_id, position_pks=position_pks)


@dataclass
class Tape:
    """One contract's prices on one login's socket, and what was last sent of them."""

    latest: Decimal | None = None
    sent: Decimal | None = None
    high: Decimal | None = None  # the highest / lowest quote since the last flush
    low: Decimal | None = None
    holders: Holders = field(default_factory=dict)
    owed: bool = False  # a new position holds it: a frame is due even without a move
    busy: bool = False
    flushed_at: float = -math.inf  # monotonic, when the last flush ended
    stored_at: float = -math.inf
    quoted_at: float = -math.inf
    timer: asyncio.TimerHandle | None = None


class PriceTapes:
    """The last prices of the monitor's sockets, stored and sent as the module says."""

    def __init__(
        self,
        *,
        thread: Callable[[Callable[[], None]], Awaitable[None]],
        slots: int,
        frame_seconds: float = FRAME_SECONDS,
    ) -> None:
        self._thread = thread
        self._slots = asyncio.Semaphore(slots)
        self.frame_seconds = frame_seconds
        self.tapes: dict[TapeKey, Tape] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False

    def quote(self, *, connection_pk: int, contract_id: int, last: Decimal) -> None:
        """A quote's last price (the event loop's cheap path)."""
        key = (connection_pk, contract_id)
        tape = self.tapes.get(key)
        if tape is None:
            tape = self.tapes[key] = Tape()
        tape.latest = last
        tape.high = last if tape.high is None else max(tape.high, last)
        tape.low = last if tape.low is None else min(tape.low, last)
        tape.quoted_at = time.monotonic()
        self._consider(key, tape)

    def holders_set(self, holders: Mapping[TapeKey, Holders]) -> None:
        """Whose positions each contract prices, as the database says now."""
        for key, old in self.tapes.items():
            if key not in holders:
                old.holders = {}
        for key, by_user in holders.items():
            tape = self.tapes.get(key)
            if tape is None:
                tape = self.tapes[key] = Tape()
            if by_user == tape.holders:
                continue
            known = {pk for pks in tape.holders.values() for pk in pks}
            tape.holders = dict(by_user)
            if any(pk not in known for pks in by_user.values() for pk in pks):
                tape.owed = True
                self._consider(key, tape)

    def keep_alive(self, *, live: Callable[[TapeKey], bool]) -> None:
        """Write again the prices of live contracts before they expire; say "no price" once to
        the holders of a contract whose socket has been down longer than a price lives; forget
        contracts nobody holds that went unquoted as long."""
        now = time.monotonic()
        for key, tape in list(self.tapes.items()):
            if tape.busy or tape.latest is None:
                if not tape.holders and now - tape.quoted_at > LAST_PRICE_TTL_SECONDS:
                    self._forget(key)
                continue
            if live(key):
                if now - tape.stored_at > KEEP_ALIVE_SECONDS:
                    self._start(key, tape, price=tape.latest, holders={}, told=False)
            elif now - tape.stored_at > LAST_PRICE_TTL_SECONDS:
                tape.latest = None
                self._start(key, tape, price=None, holders=tape.holders, told=True)

    def stop(self) -> None:
        self.stopping = True
        for tape in self.tapes.values():
            if tape.timer is not None:
                tape.timer.cancel()
                tape.timer = None

    def _forget(self, key: TapeKey) -> None:
        tape = self.tapes.pop(key)
        if tape.timer is not None:
            tape.timer.cancel()

    def _consider(self, key: TapeKey, tape: Tape) -> None:
        if self.stopping or tape.busy or tape.timer is not None or tape.latest is None:
            return
        unmoved = tape.high is None or tape.high == tape.low == tape.sent
        if tape.latest == tape.sent and not tape.owed and unmoved:
            return
        wait = tape.flushed_at + self.frame_seconds - time.monotonic()
        if wait > 0:
            tape.timer = asyncio.get_running_loop().call_later(wait, self._due, key)
            return
        self._start(key, tape, price=tape.latest, holders=tape.holders, told=True)

    def _due(self, key: TapeKey) -> None:
        tape = self.tapes.get(key)
        if tape is not None:
            tape.timer = None
            self._consider(key, tape)

    def _start(
        self, key: TapeKey, tape: Tape, *, price: Decimal | None, holders: Holders, told: bool
    ) -> None:
        """One flush: store ``price`` (unless None), send ``holders`` their frames; ``told``:
        it counts as what the holders were told (else it only keeps the stored price alive)."""
        tape.busy = True
        if told:
            tape.owed = False
        seen: Extremes | None = None
        position_pks = tuple(pk for pks in tape.holders.values() for pk in pks)
        if tape.high is not None and tape.low is not None and position_pks:
            seen = (tape.high, tape.low, position_pks)
        tape.high = tape.low = None
        task = asyncio.create_task(
            self._flush(key, tape, price=price, holders=dict(holders), told=told, seen=seen)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _flush(
        self,
        key: TapeKey,
        tape: Tape,
        *,
        price: Decimal | None,
        holders: Holders,
        told: bool,
        seen: Extremes | None,
    ) -> None:
        try:
            async with self._slots:
                await self._thread(
                    functools.partial(
                        price_publish,
                        connection_pk=key[0],
                        contract_id=key[1],
                        price=price,
                        holders=holders,
                        seen=seen,
                    )
                )
            if price is not None:
                tape.stored_at = time.monotonic()
        except Exception:  # Redis or the channel layer down: said; the next move tries again
            logger.exception("monitor: last price of contract %s not published", key[1])
        finally:
            if told:
                tape.sent = price
                tape.flushed_at = time.monotonic()
            tape.busy = False
            self._consider(key, tape)
