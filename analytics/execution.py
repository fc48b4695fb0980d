"""Execution quality, each figure defined once: pure, no ORM, no I/O.

For every entry order a signal placed and the broker filled (an `EntrySample`):

- slippage: how much worse than the alert's price the entry filled, per contract, in ticks
  and in dollars for the quantity filled: (fill - alert) for a buy, (alert - fill) for a sell.
  Positive costs the trader, negative is price improvement. Without a price in the alert
  there is nothing to compare with: the entry is counted as "no alert price", never as 0.
- latency to acceptance: from the alert's receipt (our clock) to our receipt of the broker's
  first report accepting the order (Working / Filled; our clock too). Latency to fill: to the
  first fill's time stamp (the broker's clock, so a fill can read earlier than its report).
- p50 / p95: nearest-rank percentiles (the smallest value with at least that share of the
  samples at or below it), so each is a value that really happened.
- rejects: orders the broker refused, counted by its own words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar


@dataclass(frozen=True)
class EntrySample:
    side: int  # +1 buy, -1 sell
    qty: int  # filled
    alert_price: Decimal | None
    fill_price: Decimal | None  # the average over its fills
    received_at: datetime
    accepted_at: datetime | None
    first_fill_at: datetime | None
    tick_size: Decimal | None  # None: the contract is unknown (no ticks, no dollars)
    value_per_point: Decimal | None


@dataclass(frozen=True)
class ExecutionSummary:
    entries: int
    priced: int  # entries with an alert price and a fill: the slippage's samples
    slippage_ticks_mean: Decimal | None
    slippage_ticks_p50: Decimal | None
    slippage_ticks_p95: Decimal | None
    slippage_dollars: Decimal | None  # the sum over the priced entries
    accept_ms_p50: float | None
    accept_ms_p95: float | None
    fill_ms_p50: float | None
    fill_ms_p95: float | None
    rejects: int


def slippage_points(*, side: int, alert_price: Decimal, fill_price: Decimal) -> Decimal:
    """Per contract, in price points: positive is worse for the trader than the alert."""
    if side not in (1, -1):
        raise ValueError(f"side {side}: +1 buy or -1 sell")
    return (fill_price - alert_price) * side


N = TypeVar("N", float, Decimal)


def percentile(values: Sequence[N], share: float) -> N | None:
    """The nearest-rank percentile (``share`` in (0, 1]); None without values."""
    if not values:
        return None
    if not 0 < share <= 1:
        raise ValueError(f"share {share} outside (0, 1]")
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def _ms(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() * 1000


def execution_of(samples: Iterable[EntrySample], *, rejects: int = 0) -> ExecutionSummary:
    """The execution figures of ``samples`` (see the module for the definitions)."""
    entries = list(samples)
    ticks: list[Decimal] = []
    dollars = Decimal(0)
    for s in entries:
        if s.alert_price is None or s.fill_price is None or s.tick_size is None:
            continue
        points = slippage_points(side=s.side, alert_price=s.alert_price, fill_price=s.fill_price)
        ticks.append(points / s.tick_size)
        if s.value_per_point is not None:
            dollars += points * s.value_per_point * s.qty
    accepted = [m for s in entries if (m := _ms(s.received_at, s.accepted_at)) is not None]
    filled = [m for s in entries if (m := _ms(s.received_at, s.first_fill_at)) is not None]
    p = percentile
    return ExecutionSummary(
        entries=len(entries),
        priced=len(ticks),
        slippage_ticks_mean=sum(ticks, Decimal(0)) / len(ticks) if ticks else None,
        slippage_ticks_p50=p(ticks, 0.5),
        slippage_ticks_p95=p(ticks, 0.95),
        slippage_dollars=dollars if ticks else None,
        accept_ms_p50=p(accepted, 0.5),
        accept_ms_p95=p(accepted, 0.95),
        fill_ms_p50=p(filled, 0.5),
        fill_ms_p95=p(filled, 0.95),
        rejects=rejects,
    )


def rejects_by_reason(reasons: Iterable[str]) -> list[tuple[str, int]]:
    """The broker's refusals counted by its words, most frequent first (then by the words)."""
    counted = Counter((r.strip() or "(the broker gave no reason)") for r in reasons)
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))
