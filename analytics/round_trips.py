"""Trades as round trips built from fills: pure, no ORM, no I/O (like trading/engine.py).

A trade runs from flat to flat on one account and contract. Inside it, adds and partial closes
are matched first in, first out (each closing contract against the oldest open one), so the
trade's P&L is the sum of its matched lots. A fill that crosses zero (a reversal) closes the
trade with the part that flattens it and opens the next trade with the rest. A trade not yet
back to flat is open (``closed_at`` None). Built from the same fills in the same order, the
trades are always the same (the rebuild is deterministic).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class FillIn:
    """One execution: ``qty`` contracts bought (``side`` +1) or sold (-1) at ``price``."""

    key: int  # the fill's id: the order among fills of the same time
    at: datetime
    side: int
    qty: int
    price: Decimal


@dataclass
class RoundTrip:
    direction: int  # +1 long, -1 short
    opened_at: datetime
    closed_at: datetime | None = None
    fill_keys: list[int] = field(default_factory=list)
    max_qty: int = 0  # the largest position held during the trade
    contracts: int = 0  # every contract bought or sold in it (for fees per contract)
    entry_value: Decimal = Decimal(0)  # sum of price x qty of the opening side
    entry_qty: int = 0
    exit_value: Decimal = Decimal(0)
    exit_qty: int = 0
    points: Decimal = Decimal(0)  # matched P&L in price points x contracts

    @property
    def entry_price(self) -> Decimal | None:
        return self.entry_value / self.entry_qty if self.entry_qty else None

    @property
    def exit_price(self) -> Decimal | None:
        return self.exit_value / self.exit_qty if self.exit_qty else None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def round_trips(fills: Iterable[FillIn]) -> list[RoundTrip]:
    """The trades of one account and contract, in the order they opened."""
    trips: list[RoundTrip] = []
    lots: deque[list[Decimal | int]] = deque()  # open lots: [price, qty], oldest first
    position = 0
    current: RoundTrip | None = None
    for fill in sorted(fills, key=lambda f: (f.at, f.key)):
        if fill.qty <= 0 or fill.side not in (1, -1):
            raise ValueError(f"fill {fill.key}: a fill buys or sells a positive quantity")
        remaining = fill.qty
        while remaining > 0:
            if current is None:
                current = RoundTrip(direction=fill.side, opened_at=fill.at)
                trips.append(current)
            if fill.key not in current.fill_keys:
                current.fill_keys.append(fill.key)
            if fill.side == current.direction:  # opens or adds
                lots.append([fill.price, remaining])
                position += fill.side * remaining
                current.entry_value += fill.price * remaining
                current.entry_qty += remaining
                current.contracts += remaining
                current.max_qty = max(current.max_qty, abs(position))
                remaining = 0
                continue
            closing = min(remaining, abs(position))  # the part that reduces: FIFO lots
            left = closing
            while left > 0:
                lot = lots[0]
                price, qty = Decimal(lot[0]), int(lot[1])
                used = min(qty, left)
                current.points += (fill.price - price) * used * current.direction
                lot[1] = qty - used
                if lot[1] == 0:
                    lots.popleft()
                left -= used
            position += fill.side * closing
            current.exit_value += fill.price * closing
            current.exit_qty += closing
            current.contracts += closing
            remaining -= closing
            if position == 0:
                current.closed_at = fill.at
                current = None  # what is left of this fill (a reversal) opens the next trade
    return trips
