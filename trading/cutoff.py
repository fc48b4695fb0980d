"""Flatten after the cutoff: when a trader's last trading window of the moment ends, a CLOSE
signal for that trader alone goes through the normal path (lock, broker read, engine, outcome
in the signal log), once per window end and symbol.

The schedule decides only *when* to look; whether there is anything to close is read from the
broker by the executor (D19), and a flat account records "already flat".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from trading.alerts import parse_alert
from trading.models import Signal, SignalOutcome, Trader
from trading.settings_mapping import time_windows_from
from trading.settings_resolution import TimeWindow

# A cutoff missed for longer than this (beat stopped) is not acted on late: the trader sees
# the position in the control centre instead of a surprise flatten hours after the window.
CUTOFF_GRACE = timedelta(minutes=30)
RECENT_SYMBOLS = timedelta(days=7)


@dataclass(frozen=True)
class Cutoff:
    """A window end that has passed: ``key`` names it once (local date and time)."""

    key: str
    words: str


def cutoff_due(
    *, windows: Sequence[TimeWindow], zone: str, now: datetime, grace: timedelta = CUTOFF_GRACE
) -> Cutoff | None:
    """The window end passed within ``grace`` before ``now`` while no window is open, if any.

    Pure. ``windows`` are read in ``zone``, as the engine's filter reads them.
    """
    local = now.astimezone(ZoneInfo(zone))
    if any(window.contains(local.time()) for window in windows):
        return None
    latest: datetime | None = None
    for window in windows:
        for days in (0, 1):
            ended = datetime.combine(local.date() - timedelta(days=days), window.end, local.tzinfo)
            if ended <= local and (latest is None or ended > latest):
                latest = ended
    if latest is None or local - latest > grace:
        return None
    return Cutoff(
        key=f"{latest:%Y-%m-%dT%H:%M}",
        words=f"flatten after the cutoff {latest:%H:%M} {zone}",
    )


def _resolved(trader: Trader) -> tuple[bool, tuple[TimeWindow, ...]]:
    """flatten_after_cutoff and the time windows, the trader's where set, else the strategy's."""
    strategy = trader.strategy
    flatten = trader.flatten_after_cutoff
    if flatten is None:
        flatten = strategy.flatten_after_cutoff
    windows = time_windows_from(
        trader.time_windows if trader.time_windows is not None else strategy.time_windows
    )
    return bool(flatten), windows or ()


def _symbols(trader: Trader) -> list[str]:
    """The contracts this trader's signals traded lately."""
    since = timezone.now() - RECENT_SYMBOLS
    symbols = set(
        SignalOutcome.objects.filter(trader_account__trader=trader, started_at__gte=since)
        .exclude(symbol="")
        .values_list("symbol", flat=True)
    )
    return sorted(symbols)


def cutoff_signals_create(*, now: datetime | None = None) -> list[Signal]:
    """Beat: for every enabled trader with flatten_after_cutoff and time windows whose window
    just ended, one CLOSE signal per recently traded contract, executed after commit."""
    from trading.tasks import execute_signal

    now = now or timezone.now()
    created: list[Signal] = []
    traders = Trader.objects.filter(enabled=True).select_related("strategy", "user")
    for trader in traders:
        flatten, windows = _resolved(trader)
        if not flatten or not windows:
            continue
        cutoff = cutoff_due(windows=windows, zone=trader.user.time_zone, now=now)
        if cutoff is None:
            continue
        for symbol in _symbols(trader):
            body = {"action": "close", "ticker": symbol, "comment": cutoff.words}
            try:
                with transaction.atomic():
                    signal = Signal.objects.create(
                        strategy=trader.strategy,
                        for_trader=trader,
                        idempotency_key=f"cutoff:{trader.pk}:{symbol}:{cutoff.key}"[:128],
                        raw_body=json.dumps(body),
                        content_type="application/json",
                        parsed={"alert": parse_alert(body).as_json(), "fields": body},
                        action="close",
                        symbol=symbol,
                    )
            except IntegrityError:
                continue  # this cutoff was already handled
            transaction.on_commit(partial(execute_signal.delay, signal.pk))
            created.append(signal)
    return created
