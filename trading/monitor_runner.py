"""The streams process's position monitor: market-data sockets per login, quotes ->
`position_evaluate` (stops) and `trading.monitor_prices.PriceTapes` (open P&L).

``manage.py run_streams`` runs one `PositionMonitor` on its asyncio loop, beside the user
streams (`trading.user_streams.UserStreams`, which share its connect gate); what the monitor
guarantees is described in `trading.monitor`, which holds the per-position evaluation it runs
in threads. The monitor also writes the process's ``streams`` heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.conf import settings as django_settings
from django.db import connection as db_connection

from config.heartbeat import heartbeat_beat
from trading.brokers.base import BrokerError
from trading.brokers.tradovate.md import Quote, QuoteStream
from trading.brokers.tradovate.ws import ConnectGate
from trading.engine_stops import stop_adjustment
from trading.monitor import (
    Evaluation,
    Feed,
    Key,
    Target,
    _record,
    contract_id_resolve,
    md_token_for,
    monitor_targets,
    position_evaluate,
)
from trading.monitor_prices import PriceTapes, TapeKey, positions_quoted

logger = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_SECONDS = 3.0
HEARTBEAT_SECONDS = 5.0
RECHECK_SECONDS = 120.0  # broker state older than this is read again before deciding
MAX_RETRY_SECONDS = 30.0


@dataclass
class Watch:
    """The monitor's view of one position: its target and the broker state last read."""

    target: Target
    read_at: float = 0.0  # monotonic; 0 = never read
    net_pos: int = 0
    net_price: Decimal | None = None
    stop: Decimal | None = None
    initial_stop: Decimal | None = None
    known_initial: dict[int, Decimal] = field(default_factory=dict)
    busy: bool = False
    latest: Decimal | None = None  # the newest last price seen
    failures: int = 0
    retry_at: float = 0.0
    last_failure: str = ""

    def forget(self) -> None:
        self.read_at = 0.0

    def may_move(self, price: Decimal, now: float) -> bool:
        """False only when the state read last time says this price cannot move a stop."""
        if self.read_at == 0.0 or now - self.read_at > RECHECK_SECONDS:
            return True
        if self.net_pos == 0 or self.net_price is None or self.stop is None:
            return False
        assert self.initial_stop is not None
        return (
            stop_adjustment(
                side_long=self.net_pos > 0,
                net_price=self.net_price,
                current_stop=self.stop,
                last_price=price,
                initial_stop=self.initial_stop,
                break_even=self.target.break_even,
                trailing=self.target.trailing,
                spec=self.target.spec,
            )
            is not None
        )


@dataclass
class _Running:
    stream: QuoteStream
    stop: asyncio.Event
    task: asyncio.Task[None]


def _closing_connection(function: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return function()
        finally:
            db_connection.close()  # back to the pool (and any session lock with it)

    return run


class PositionMonitor:
    def __init__(
        self,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        threads: int = 8,
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.watches: dict[Key, Watch] = {}
        self.feeds: dict[int, _Running] = {}
        self.contract_ids: dict[tuple[int, str], int] = {}
        self.gate = ConnectGate()
        self.evaluations: set[asyncio.Task[None]] = set()
        self.feed_tasks: set[asyncio.Task[None]] = set()  # running, or closing after a stop
        self.told: dict[int, str] = {}  # outcome pk -> the last problem recorded on it
        self.stopping = False
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="monitor")
        self._last_beat = 0.0
        # Open P&L frames never take more than half the threads: stops keep the rest.
        self.prices = PriceTapes(thread=self._thread, slots=max(1, threads // 2))

    async def _thread(self, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _closing_connection(function))

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Beat, refresh, repeat until ``stop``; then close every socket and let evaluations
        in flight finish (each holds a position lock and maybe a broker call)."""
        logger.info("position monitor started (refresh every %.1f s)", self.refresh_seconds)
        try:
            while not stop.is_set():
                await self._beat()
                try:
                    await self.refresh()
                except Exception:
                    logger.exception("monitor: refresh failed (retrying)")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
        finally:
            self.stopping = True
            self.prices.stop()
            for running in self.feeds.values():
                running.stop.set()
            tasks = [*self.feed_tasks, *self.evaluations, *self.prices.tasks]
            if tasks:
                await asyncio.wait(tasks, timeout=15)
            self._pool.shutdown(wait=False, cancel_futures=True)
            logger.info("position monitor stopped")

    async def _beat(self) -> None:
        if time.monotonic() - self._last_beat < self.heartbeat_seconds:
            return
        try:  # not on the pool: busy evaluations must not delay the proof of life
            await asyncio.to_thread(heartbeat_beat, component="streams")
            self._last_beat = time.monotonic()
        except Exception:  # Redis down: /healthz says so; the monitor keeps working
            logger.exception("monitor: heartbeat could not be written")

    async def refresh(self) -> None:
        """Bring watches and market-data sockets in line with the database: the stops'
        symbols and every open position's contract."""
        found, quoted = await asyncio.gather(
            self._thread(monitor_targets), self._thread(positions_quoted)
        )
        targets, feeds = found.positions, {**quoted.feeds, **found.feeds}
        self.prices.holders_set(quoted.holders)
        for outcome_pk, text in found.problems.items():
            await self._tell(outcome_pk, text)
        for key in [k for k in self.watches if k not in targets]:
            del self.watches[key]
        for key, target in targets.items():
            watch = self.watches.get(key)
            if watch is None:
                self.watches[key] = Watch(target=target)
            elif watch.target != target:
                watch.target = target
                watch.forget()
        await self._resolve_contracts(targets)
        wanted: dict[int, dict[str, int]] = {}
        for target in targets.values():
            contract_id = self.contract_ids.get((target.connection_pk, target.symbol))
            if contract_id is not None:
                wanted.setdefault(target.connection_pk, {})[target.symbol] = contract_id
        for connection_pk, contracts in quoted.contracts.items():
            for symbol, contract_id in contracts.items():
                wanted.setdefault(connection_pk, {}).setdefault(symbol, contract_id)
        for connection_pk, symbols in wanted.items():
            running = self.feeds.get(connection_pk)
            if running is None or running.task.done():  # new, or ended by a crash (logged)
                running = self._start_feed(feeds[connection_pk])
                self.feeds[connection_pk] = running
            running.stream.want(symbols)
        for connection_pk in [pk for pk in self.feeds if pk not in wanted]:
            self.feeds.pop(connection_pk).stop.set()
        for watch in self.watches.values():  # retries that no new quote would start
            self._consider(watch)
        self.prices.keep_alive(live=self._quoting)

    def _quoting(self, key: TapeKey) -> bool:
        """The contract's socket is connected and subscribed to it."""
        running = self.feeds.get(key[0])
        return (
            running is not None
            and running.stream.ready.is_set()
            and key[1] in running.stream.subscribed.values()
        )

    async def _resolve_contracts(self, targets: dict[Key, Target]) -> None:
        missing = {
            (t.connection_pk, t.symbol)
            for t in targets.values()
            if (t.connection_pk, t.symbol) not in self.contract_ids
        }

        async def resolve(connection_pk: int, symbol: str) -> None:
            try:
                self.contract_ids[(connection_pk, symbol)] = await self._thread(
                    functools.partial(
                        contract_id_resolve, connection_pk=connection_pk, symbol=symbol
                    )
                )
            except Exception as exc:  # said on every position it leaves unwatched, then retried
                text = (
                    f"break-even/trailing paused: no quotes for {symbol}: "
                    f"{exc if isinstance(exc, BrokerError) else f'{type(exc).__name__}: {exc}'}"
                )
                for target in targets.values():
                    if (target.connection_pk, target.symbol) == (connection_pk, symbol):
                        await self._tell(target.outcome_pk, text)

        await asyncio.gather(*(resolve(pk, symbol) for pk, symbol in sorted(missing)))

    async def _tell(self, outcome_pk: int, text: str) -> None:
        """Record a problem on an outcome once (until it changes), and log it."""
        if self.told.get(outcome_pk) == text:
            return
        self.told[outcome_pk] = text
        logger.warning("monitor: outcome %s: %s", outcome_pk, text)
        await self._thread(functools.partial(_record, outcome_pk=outcome_pk, line=text))

    def _start_feed(self, feed: Feed) -> _Running:
        last_token, refusals_seen = "", 0

        async def token() -> str:
            nonlocal last_token, refusals_seen
            refused = None
            if stream.stats.auth_refused != refusals_seen:  # the last token was refused
                refusals_seen = stream.stats.auth_refused
                refused = last_token
            last_token = await self._thread(
                functools.partial(md_token_for, connection_pk=feed.connection_pk, refused=refused)
            )
            return last_token

        async def on_quote(quote: Quote) -> None:
            self._on_quote(feed.connection_pk, quote.symbol, quote.last)
            if quote.last is not None:
                self.prices.quote(
                    connection_pk=feed.connection_pk, contract_id=quote.contract_id, last=quote.last
                )

        stream = QuoteStream(
            url=feed.url,
            token=token,
            login=feed.login,
            gate=self.gate,
            on_quote=on_quote,
            name=f"quotes of connection {feed.connection_pk} ({feed.label})",
            cooldown_seconds=django_settings.TRADOVATE_429_COOLDOWN_SECONDS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        task.add_done_callback(_log_crash)
        self.feed_tasks.add(task)
        task.add_done_callback(self.feed_tasks.discard)
        return _Running(stream=stream, stop=stop, task=task)

    # --- quotes -> evaluations -----------------------------------------------------------------

    def _on_quote(self, connection_pk: int, symbol: str, last: Decimal | None) -> None:
        if last is None:
            return
        for watch in self.watches.values():
            if watch.target.connection_pk == connection_pk and watch.target.symbol == symbol:
                watch.latest = last
                self._consider(watch)

    def _consider(self, watch: Watch) -> None:
        price = watch.latest
        now = time.monotonic()
        if price is None or watch.busy or self.stopping or now < watch.retry_at:
            return
        if not watch.may_move(price, now):
            return  # this price cannot change the decision: no broker call
        watch.busy = True
        task = asyncio.create_task(self._evaluate(watch, price))
        self.evaluations.add(task)
        task.add_done_callback(self.evaluations.discard)

    async def _evaluate(self, watch: Watch, price: Decimal) -> None:
        try:
            result = await self._thread(
                functools.partial(
                    position_evaluate,
                    target=watch.target,
                    last_price=price,
                    known_initial=watch.known_initial,
                    last_failure=watch.last_failure,
                )
            )
        except Exception as exc:  # never kills the loop; said in the log with its type
            logger.exception("monitor: evaluating %s failed", watch.target.symbol)
            result = Evaluation(failure=f"{type(exc).__name__}: {exc}")
        now = time.monotonic()
        if result.busy:
            watch.retry_at = now + 0.5  # a signal holds the position: soon again
        elif result.failure != "":
            watch.failures += 1
            watch.last_failure = result.failure
            watch.retry_at = now + min(MAX_RETRY_SECONDS, 2.0 ** (watch.failures - 1))
            watch.forget()  # read the broker again before the next decision
        else:
            watch.failures = 0
            watch.last_failure = ""
            watch.read_at = now
            watch.net_pos = result.net_pos
            watch.net_price = result.net_price
            watch.stop = result.stop
            watch.initial_stop = result.initial_stop
        watch.busy = False
        if watch.latest is not None and watch.latest != price:
            self._consider(watch)  # the price moved while this ran


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("monitor: a market-data stream stopped", exc_info=task.exception())
