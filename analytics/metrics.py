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
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

INFINITE = Decimal("Infinity")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ClosedTrade:
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


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def metrics_of(
    trades: Sequence[ClosedTrade], *, zone: str = "UTC", start_balance: Decimal | None = None
) -> Metrics:
    """Every metric of ``trades`` (see the module for the definitions)."""
    ordered = sorted(trades, key=lambda t: t.closed_at)
    tz = ZoneInfo(zone)
    nets = [t.net for t in ordered]
    won = [n for n in nets if n > 0]
    lost = [n for n in nets if n < 0]
    lost_total = -sum(lost, ZERO)
    if lost:
        profit_factor: Decimal | None = sum(won, ZERO) / lost_total
    else:
        profit_factor = INFINITE if won else None
    equity, peak, deepest, deepest_peak = ZERO, ZERO, ZERO, ZERO
    curve: list[tuple[datetime, Decimal]] = []
    by_weekday: dict[int, Decimal] = {}
    by_hour: dict[int, Decimal] = {}
    for trade in ordered:
        equity += trade.net
        curve.append((trade.closed_at, equity))
        peak = max(peak, equity)
        if equity - peak < deepest:
            deepest, deepest_peak = equity - peak, peak
        local = trade.closed_at.astimezone(tz)
        by_weekday[local.weekday()] = by_weekday.get(local.weekday(), ZERO) + trade.net
        by_hour[local.hour] = by_hour.get(local.hour, ZERO) + trade.net
    fraction = None
    if start_balance is not None and start_balance + deepest_peak > 0:
        fraction = deepest / (start_balance + deepest_peak)
    holds = [t.closed_at - t.opened_at for t in ordered]
    return Metrics(
        trades=len(ordered),
        net=sum(nets, ZERO),
        gross=sum((t.gross for t in ordered), ZERO),
        fees=sum((t.fees for t in ordered), ZERO),
        wins=len(won),
        losses=len(lost),
        break_even=len(nets) - len(won) - len(lost),
        win_rate=Decimal(len(won)) / len(nets) if nets else None,
        profit_factor=profit_factor,
        expectancy=_mean(nets),
        average_win=_mean(won),
        average_loss=_mean(lost),
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
