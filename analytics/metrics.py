"""The metrics traders judge by, each defined once: pure, no ORM, no I/O.

Input: closed trades (net P&L after fees, gross P&L, fees, open and close times). Definitions:

- net / gross P&L: the sums over the trades; fees likewise.
- wins / losses / break-even: net P&L above / below / at zero; win rate = wins / trades.
- profit factor: gross won / gross lost over the trades (sum of winning nets / the absolute sum
  of losing nets); infinite with wins and no losses (`INFINITE`, shown as such), None with no
  wins and no losses.
- expectancy: net P&L per trade. Average win / loss: over the winning / losing trades.
- max drawdown: the deepest fall of the closed-trade equity curve (starting at 0, trades in
  closing order) from its running peak, in $ (never positive) and as a fraction of the peak
  balance (``start_balance`` + the peak; None without a start balance).
- MFE / MAE (maximum favourable / adverse excursion) of one trade: how far the price went for
  (>= 0) and against (<= 0) the trade from its average entry price, in dollars over the largest
  position held: the highest and lowest price seen while it was open (the streams process's
  quotes, and the trade's own fills, which bound them) against the entry (``excursion_of``).
  Averages over the trades that have them.
- average hold: mean time from open to close. By weekday / hour: net P&L by the close time in
  the given time zone. Equity curve: (close time, cumulative net) after each trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

INFINITE = Decimal("Infinity")
ZERO = Decimal(0)


class ClosedTrade(NamedTuple):  # a tuple: 100,000 of them are built in a blink
    net: Decimal
    gross: Decimal
    fees: Decimal
    opened_at: datetime
    closed_at: datetime
    mfe: Decimal | None = None
    mae: Decimal | None = None


@dataclass(frozen=True)
class Metrics:
    trades: int
    net: Decimal
    gross: Decimal
    fees: Decimal
    wins: int
    losses: int
    break_even: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    max_drawdown: Decimal  # <= 0
    max_drawdown_fraction: Decimal | None
    average_hold: timedelta | None
    average_mfe: Decimal | None
    average_mae: Decimal | None
    by_weekday: dict[int, Decimal]  # 0 = Monday
    by_hour: dict[int, Decimal]
    equity_curve: list[tuple[datetime, Decimal]]


class _LocalClock:
    """Weekday and hour in a time zone of many moments, at the cost of one zone look-up per
    UTC hour: within an hour without a change of offset, local time is UTC + that offset (an
    hour with a change is looked up moment by moment)."""

    def __init__(self, zone: str) -> None:
        self.tz = ZoneInfo(zone)
        self.offsets: dict[int, float | None] = {}

    def weekday_hour(self, moment: datetime) -> tuple[int, int]:
        stamp = moment.timestamp()
        hour = int(stamp // 3600)
        if hour not in self.offsets:
            start = datetime.fromtimestamp(hour * 3600, UTC)
            first, last = (self.tz.utcoffset(start + timedelta(seconds=s)) for s in (0, 3599))
            same = first is not None and first == last
            self.offsets[hour] = first.total_seconds() if same and first is not None else None
        offset = self.offsets[hour]
        if offset is None:
            local = moment.astimezone(self.tz)
            return local.weekday(), local.hour
        seconds = int((stamp + offset) // 1)
        return (seconds // 86400 + 3) % 7, seconds // 3600 % 24  # 1970-01-01 was a Thursday


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def metrics_of(
    trades: Sequence[ClosedTrade], *, zone: str = "UTC", start_balance: Decimal | None = None
) -> Metrics:
    """Every metric of ``trades`` (see the module for the definitions)."""
    ordered = sorted(trades, key=lambda t: t.closed_at)
    clock = _LocalClock(zone)
    nets = [t.net for t in ordered]
    won = [n for n in nets if n > 0]
    lost = [n for n in nets if n < 0]
    won_total, lost_total = sum(won, ZERO), sum(lost, ZERO)  # each sum once: 100,000 trades
    if lost:
        profit_factor: Decimal | None = won_total / -lost_total
    else:
        profit_factor = INFINITE if won else None
    equity, peak, deepest, deepest_peak = ZERO, ZERO, ZERO, ZERO
    curve: list[tuple[datetime, Decimal]] = []
    by_slot: dict[tuple[int, int], Decimal] = {}  # (weekday, hour) -> net
    for trade in ordered:
        net, at = trade.net, trade.closed_at
        equity += net
        curve.append((at, equity))
        if equity > peak:
            peak = equity
        elif equity - peak < deepest:
            deepest, deepest_peak = equity - peak, peak
        slot = clock.weekday_hour(at)
        by_slot[slot] = by_slot.get(slot, ZERO) + net
    by_weekday: dict[int, Decimal] = {}
    by_hour: dict[int, Decimal] = {}
    for (weekday, hour), net in by_slot.items():
        by_weekday[weekday] = by_weekday.get(weekday, ZERO) + net
        by_hour[hour] = by_hour.get(hour, ZERO) + net
    fraction = None
    if start_balance is not None and start_balance + deepest_peak > 0:
        fraction = deepest / (start_balance + deepest_peak)
    holds = [t.closed_at - t.opened_at for t in ordered]
    return Metrics(
        trades=len(ordered),
        net=equity,
        gross=sum((t.gross for t in ordered), ZERO),
        fees=sum((t.fees for t in ordered), ZERO),
        wins=len(won),
        losses=len(lost),
        break_even=len(nets) - len(won) - len(lost),
        win_rate=Decimal(len(won)) / len(nets) if nets else None,
        profit_factor=profit_factor,
        expectancy=equity / len(nets) if nets else None,
        average_win=won_total / len(won) if won else None,
        average_loss=lost_total / len(lost) if lost else None,
        largest_win=max(won) if won else None,
        largest_loss=min(lost) if lost else None,
        max_drawdown=deepest,
        max_drawdown_fraction=fraction,
        average_hold=sum(holds, timedelta()) / len(holds) if holds else None,
        average_mfe=_mean([t.mfe for t in ordered if t.mfe is not None]),
        average_mae=_mean([t.mae for t in ordered if t.mae is not None]),
        by_weekday=by_weekday,
        by_hour=by_hour,
        equity_curve=curve,
    )


def excursion_of(
    *,
    direction: int,
    entry_price: Decimal,
    high: Decimal,
    low: Decimal,
    qty: int,
    value_per_point: Decimal,
) -> tuple[Decimal, Decimal]:
    """(MFE, MAE) in dollars of a trade ``direction`` (+1 long, -1 short) entered at
    ``entry_price`` whose price ranged from ``low`` to ``high``: MFE >= 0 >= MAE, always."""
    if low > high:
        raise ValueError(f"low {low} above high {high}")
    up, down = high - entry_price, low - entry_price
    favourable, adverse = (up, down) if direction > 0 else (-down, -up)
    scale = qty * value_per_point
    return max(favourable, ZERO) * scale, min(adverse, ZERO) * scale
