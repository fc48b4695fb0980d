"""Shapes the performance pages draw from selector results: chart points, the month's
calendar grid, CSV rows. Pure: no ORM, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the type only: this module imports nothing that touches the database
    from analytics.selectors import DayPnl

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

CSV_HEADER = (
    "id",
    "account",
    "symbol",
    "direction",
    "opened_at",
    "closed_at",
    "max_qty",
    "contracts",
    "entry_price",
    "exit_price",
    "points",
    "gross_pnl",
    "fees",
    "net_pnl",
    "mfe",
    "mae",
)


EQUITY_POINTS_MAX = 2000


def equity_points(
    curve: Sequence[tuple[datetime, Decimal]], *, zone: str, most: int = EQUITY_POINTS_MAX
) -> list[dict[str, Any]]:
    """The equity curve as lightweight-charts line data: ``time`` in seconds of the local wall
    clock (the chart shows times as UTC, so the zone's offset is added), ascending, one point
    per second (the last equity of trades closing in the same second). Past ``most`` points,
    one per local day (its closing equity), so a page never carries 100,000 points."""
    tz = ZoneInfo(zone)
    points: dict[int, float] = {}
    for moment, equity in curve:
        wall = moment.astimezone(tz).replace(tzinfo=UTC)
        points[int(wall.timestamp())] = float(equity)
    if len(points) > most:
        daily: dict[int, float] = {}
        for second, equity_value in points.items():  # ascending: the day's last one stays
            daily[second - second % 86400] = equity_value
        points = daily
    return [{"time": t, "value": v} for t, v in sorted(points.items())]


@dataclass(frozen=True)
class CalendarCell:
    day: date
    net: Decimal
    trades: int
    level: int  # 0 none, 1-4 by the size of |net| against the month's largest


def month_grid(days: Sequence[DayPnl]) -> list[list[CalendarCell | None]]:
    """The month's days in weeks, Monday first; None pads the first and last week."""
    largest = max((abs(d.net) for d in days), default=Decimal(0))
    cells: list[CalendarCell | None] = [None] * days[0].day.weekday() if days else []
    for d in days:
        level = 0
        if d.trades and largest:
            level = min(4, int(abs(d.net) / largest * 4) + 1) if d.net else 1
        cells.append(CalendarCell(d.day, d.net, d.trades, level))
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def month_step(month: date, step: int) -> date:
    """The first day of the month ``step`` months from ``month``."""
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cell(text: str) -> str:
    """Text from the broker, never read as a formula by a spreadsheet (=, +, -, @ first)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _plain(value: Decimal | None) -> str:
    """18005.25000000 -> "18005.25", 21000 -> "21000" (never "2.1E+4")."""
    return "" if value is None else f"{value.normalize():f}"


def csv_rows(trades: Iterable[Any], *, zone: str) -> Iterator[list[str]]:
    """The header, then one row per trade: money as plain decimals, times ISO-8601 in
    ``zone``, empty for unknown values."""
    tz = ZoneInfo(zone)
    yield list(CSV_HEADER)
    for t in trades:
        closed = t.closed_at.astimezone(tz).isoformat() if t.closed_at else ""
        yield [
            str(t.pk),
            _cell(t.subaccount.name),
            _cell(t.symbol),
            "long" if t.direction > 0 else "short",
            t.opened_at.astimezone(tz).isoformat(),
            closed,
            str(t.max_qty),
            str(t.contracts),
            _plain(t.entry_price),
            _plain(t.exit_price),
            _plain(t.points),
            _text(t.gross_pnl),
            _text(t.fees),
            _text(t.net_pnl),
            _text(t.mfe),
            _text(t.mae),
        ]
