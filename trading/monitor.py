"""The position monitor: break-even and trailing stops, acted on live (the ``streams`` process).

``manage.py run_streams`` runs one `PositionMonitor` (one asyncio loop). What it guarantees:

- Every few seconds (and at start) it reads from PostgreSQL the working stop orders we placed
  for a signal (`Order` role STOP, state WORKING, with an outcome) whose settings have a
  break-even or a trailing rule, grouped by (subaccount, symbol); for each broker login with
  such stops it keeps one market-data socket (`QuoteStream`) subscribed to exactly their
  symbols, and closes it when none are left.
- On a quote it decides with the pure `trading.engine.stop_adjustment`. A quote that cannot move
  any stop, judged from the broker state read last time, costs no broker call. Otherwise, per
  (subaccount, symbol) at most one evaluation runs at a time, in a thread: under the
  position's PostgreSQL lock (one writer per position, DESIGN §5.3) it reads the broker's
  position and working orders (the broker is the truth: flat means nothing is touched),
  decides again on that, and moves every stop leg of the position with ``modifyorder``; the
  Order rows take the new ``stop_price``.
- Every move and every failure is appended, with its time, to the reason of the signal outcome
  that placed the stops (the signal log shows it); a refused move also puts the broker's words
  on the stop's Order row. The same failure repeated is recorded once. Nothing is logged with a
  secret in it.
- A failure never stops the loop: broker errors back off (1 s, 2 s, ... 30 s), then the
  position is read again and retried (on a quote or the next refresh); a busy position (a
  signal is being executed) is retried half a second later; a dropped socket reconnects (gate,
  shared cooldown, backoff, resubscribe); a market-data token the broker refuses (revoked when
  another app took the login's last socket) is replaced by one fresh login; a login in error is
  not logged in again (token requests are scarce) until its owner tests the connection anew.
- Stop rows the broker no longer has working are marked filled or cancelled as the broker says.
- ``heartbeat_beat(component="streams")`` every few seconds (D30); ``stop`` ends it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings as django_settings
from django.db import connection as db_connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection, Subaccount
from config.heartbeat import heartbeat_beat
from trading.brokers.base import (
    FILLED_STATUSES,
    WORKING_STATUSES,
    BrokerError,
    OrderType,
    WorkingOrder,
)
from trading.brokers.services import (
    broker_for,
    broker_token_usable,
    connection_login_key,
    connection_record_error,
)
from trading.brokers.tradovate.broker import TradovateBroker
from trading.brokers.tradovate.md import Quote, QuoteStream, md_token_ensure, md_url
from trading.brokers.tradovate.ws import ConnectGate, SocketError
from trading.contracts import ContractSpec, is_on_tick, parse_symbol, round_to_tick
from trading.engine import stop_adjustment
from trading.execution import _alert_from_signal, effective_settings, position_lock
from trading.models import Order, SignalOutcome
from trading.settings_resolution import BreakEven, Trailing

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[int, str]  # (subaccount pk, symbol)

REFRESH_SECONDS = 3.0
HEARTBEAT_SECONDS = 5.0
LOCK_WAIT_SECONDS = 2.0  # a signal holding the position longer: try again on a later quote
RECHECK_SECONDS = 120.0  # broker state older than this is read again before deciding
MAX_RETRY_SECONDS = 30.0


# --- what the database asks for ----------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """One broker login's market-data socket, as the database describes it."""

    connection_pk: int
    label: str
    url: str
    login: str


@dataclass(frozen=True)
class Target:
    """The stops of one (subaccount, symbol) position to manage, and the rules to apply."""

    subaccount_pk: int
    connection_pk: int
    symbol: str
    order_pks: tuple[int, ...]
    outcome_pk: int  # the newest outcome among the stops: its settings apply, its log is told
    break_even: BreakEven | None
    trailing: Trailing | None
    spec: ContractSpec = field(repr=False)


@dataclass(frozen=True)
class Targets:
    positions: dict[Key, Target]
    feeds: dict[int, Feed]  # connection pk -> its market-data socket
    problems: dict[int, str]  # outcome pk -> why its stops cannot be managed


def monitor_targets() -> Targets:
    """Working stops we placed whose settings have break-even or trailing, by position."""
    rows = (
        Order.objects.filter(
            role=Order.Role.STOP,
            state=Order.State.WORKING,
            outcome__isnull=False,
            broker_order_id__isnull=False,
            subaccount__active=True,
        )
        .select_related(
            "outcome__signal",
            "outcome__trader_account__trader__strategy",
            "outcome__trader_account__trader__user",
            "subaccount__connection",
        )
        .order_by("id")
    )
    groups: dict[Key, list[Order]] = {}
    for row in rows:
        groups.setdefault((row.subaccount_id, row.symbol), []).append(row)
    targets: dict[Key, Target] = {}
    feeds: dict[int, Feed] = {}
    problems: dict[int, str] = {}
    for key, stops in groups.items():
        newest = max(stops, key=lambda row: row.outcome_id or 0)
        outcome = newest.outcome
        assert outcome is not None
        try:
            resolved = effective_settings(
                account=outcome.trader_account, alert=_alert_from_signal(outcome.signal)
            )
            spec = parse_symbol(key[1]).spec
        except Exception as exc:  # a stored row we cannot read must not stop the others
            problems[outcome.pk] = (
                f"break-even/trailing cannot be applied: {type(exc).__name__}: {exc}"
            )
            continue
        if resolved.break_even is None and resolved.trailing is None:
            continue
        connection = newest.subaccount.connection
        targets[key] = Target(
            subaccount_pk=key[0],
            connection_pk=connection.pk,
            symbol=key[1],
            order_pks=tuple(row.pk for row in stops),
            outcome_pk=outcome.pk,
            break_even=resolved.break_even,
            trailing=resolved.trailing,
            spec=spec,
        )
        if connection.pk not in feeds:
            feeds[connection.pk] = Feed(
                connection_pk=connection.pk,
                label=connection.label,
                url=md_url(connection=connection),
                login=connection_login_key(connection=connection),
            )
    return Targets(positions=targets, feeds=feeds, problems=problems)


# --- one evaluation (a thread; the broker is the truth) ----------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """What the broker said and what was done about it."""

    net_pos: int = 0
    net_price: Decimal | None = None
    stop: Decimal | None = None  # the least protective working stop leg, after any move
    initial_stop: Decimal | None = None
    moved_to: Decimal | None = None
    failure: str = ""  # recorded (unless it repeats the last one); "" = none
    busy: bool = False  # the position's lock was held by someone else: nothing read


def _now_text() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S UTC")


def _record(*, outcome_pk: int, line: str) -> None:
    """Append a line to the outcome's reason, atomically (never overwrites other writers)."""
    SignalOutcome.objects.filter(pk=outcome_pk).update(
        reason=Concat(F("reason"), Value(f"\n[{_now_text()}] {line}"))
    )


def _login_blocked(connection: BrokerConnection) -> str:
    """Why no login may be attempted for this connection now ("" = it may)."""
    if connection.status == BrokerConnection.Status.ERROR and not broker_token_usable(connection):
        return (
            f"connection '{connection.label}' is in error ({connection.last_error or 'no detail'})"
            ": test it again under Connections"
        )
    return ""


def _logged_in(connection: BrokerConnection, use: Callable[[BrokerConnection], T]) -> T:
    """``use(connection)`` (which may log in) unless logins are blocked for it; the broker's
    refusal is recorded on the connection, where its owner looks (D03)."""
    blocked = _login_blocked(connection)
    if blocked != "":
        raise BrokerError(blocked)
    try:
        return use(connection)
    except BrokerError as exc:
        connection_record_error(connection=connection, error=exc)
        raise


def _broker(connection: BrokerConnection) -> TradovateBroker:
    return _logged_in(connection, lambda c: broker_for(connection=c))


def _rule_name(*, target: Target, decide: Callable[..., Decimal | None], moved: Decimal) -> str:
    if target.break_even is not None and decide(trailing=None) == moved:
        return "break-even"
    return "trailing stop"


def position_evaluate(
    *,
    target: Target,
    last_price: Decimal,
    known_initial: dict[int, Decimal],
    last_failure: str,
) -> Evaluation:
    """Read the broker's position and stops for ``target``, move the stops if the rules say
    so, and record what happened. ``known_initial`` (order id -> first stop price) is a cache
    it fills. Raises nothing for a broker failure: the result says it."""
    rows = list(
        Order.objects.filter(pk__in=target.order_pks, state=Order.State.WORKING).select_related(
            "subaccount__connection"
        )
    )
    if not rows:
        return Evaluation()
    subaccount: Subaccount = rows[0].subaccount
    where = f"{subaccount.name} {target.symbol}"
    try:
        broker = _broker(subaccount.connection)
    except BrokerError as exc:
        return _failed(target=target, where=where, last_failure=last_failure, text=str(exc))
    try:
        with position_lock(subaccount=subaccount, symbol=target.symbol, timeout=LOCK_WAIT_SECONDS):
            return _evaluate_locked(
                target=target,
                broker=broker,
                subaccount=subaccount,
                rows=rows,
                last_price=last_price,
                known_initial=known_initial,
                last_failure=last_failure,
            )
    except TimeoutError:
        return Evaluation(busy=True)
    except BrokerError as exc:
        return _failed(target=target, where=where, last_failure=last_failure, text=str(exc))
    except Exception as exc:  # never "unknown": the type and the words go to the log
        logger.exception("monitor: %s", where)
        text = f"{type(exc).__name__}: {exc}"
        return _failed(target=target, where=where, last_failure=last_failure, text=text)
    finally:
        broker.close()


def _failed(*, target: Target, where: str, last_failure: str, text: str) -> Evaluation:
    line = f"break-even/trailing could not check {where}: {text}"
    logger.warning("monitor: %s", line)
    if text != last_failure:
        _record(outcome_pk=target.outcome_pk, line=line)
    return Evaluation(failure=text)


def _evaluate_locked(
    *,
    target: Target,
    broker: TradovateBroker,
    subaccount: Subaccount,
    rows: list[Order],
    last_price: Decimal,
    known_initial: dict[int, Decimal],
    last_failure: str,
) -> Evaluation:
    account_id = subaccount.broker_account_id
    positions = [p for p in broker.positions(account_id=account_id) if p.symbol == target.symbol]
    net_pos = sum(p.net_pos for p in positions)
    net_price = next((p.net_price for p in positions if p.net_pos != 0), None)
    working = {
        o.order_id: o
        for o in broker.working_orders(account_id=account_id)
        if o.symbol == target.symbol
    }
    _settle_gone_rows(broker, account_id=account_id, rows=rows, working=working)
    if net_pos == 0 or net_price is None:
        return Evaluation(net_pos=0)  # flat: nothing to protect, nothing touched
    side_long = net_pos > 0
    closing_side = "Sell" if side_long else "Buy"
    legs: list[tuple[Order, WorkingOrder]] = []
    for row in rows:
        order = working.get(row.broker_order_id or 0)
        if (
            order is not None
            and order.order_type == OrderType.STOP.value
            and order.stop_price is not None
            and order.side.value == closing_side
        ):
            legs.append((row, order))
    if not legs:
        return Evaluation(net_pos=net_pos, net_price=net_price)
    stops = [order.stop_price for _, order in legs if order.stop_price is not None]
    current = min(stops) if side_long else max(stops)
    initials = []
    for _, order in legs:
        if order.order_id not in known_initial:
            first = broker.initial_stop_price(order_id=order.order_id)
            known_initial[order.order_id] = first if first is not None else current
        initials.append(known_initial[order.order_id])
    initial = min(initials) if side_long else max(initials)
    decide = functools.partial(
        stop_adjustment,
        side_long=side_long,
        net_price=net_price,
        current_stop=current,
        last_price=last_price,
        initial_stop=initial,
        break_even=target.break_even,
        trailing=target.trailing,
        spec=target.spec,
    )
    new = decide()
    state = Evaluation(net_pos=net_pos, net_price=net_price, stop=current, initial_stop=initial)
    if new is None:
        return state
    rule = _rule_name(target=target, decide=decide, moved=new)
    where = f"{subaccount.name} {target.symbol}"
    refused: list[str] = []
    moved_any = False
    for row, order in legs:
        assert order.stop_price is not None
        if (new <= order.stop_price) if side_long else (new >= order.stop_price):
            continue  # this leg is already there (or tighter): never loosened
        try:
            broker.modify_order(
                order_id=order.order_id,
                qty=order.qty if order.qty is not None else row.qty,
                order_type=OrderType.STOP,
                stop_price=new,
            )
        except BrokerError as exc:
            words = exc.broker_text or str(exc)
            refused.append(f"{exc} (order {order.order_id})")
            row.error = f"{rule}: moving the stop to {new} was refused: {words}"
            row.save(update_fields=["error", "updated_at"])
            continue
        moved_any = True
        row.stop_price = new
        row.error = ""
        row.save(update_fields=["stop_price", "error", "updated_at"])
    if moved_any:
        line = (
            f"{rule}: stop of {where} moved {_shown(current, target.spec)} -> {new} "
            f"(last {_shown(last_price, target.spec)}, entry {_shown(net_price, target.spec)})"
        )
        logger.info("monitor: %s", line)
        _record(outcome_pk=target.outcome_pk, line=line)
    if refused:
        text = "; ".join(refused)
        line = f"{rule}: moving the stop of {where} to {new} failed: {text}"
        logger.warning("monitor: %s", line)
        if text != last_failure:
            _record(outcome_pk=target.outcome_pk, line=line)
        # The broker is read again before the next try, so the state here does not matter.
        return replace(state, moved_to=new if moved_any else None, failure=text)
    return replace(state, stop=new, moved_to=new)


def _shown(price: Decimal, spec: ContractSpec) -> Decimal:
    """A price as the contract writes it (18000.00, not 18000.0), when it is on the tick."""
    return round_to_tick(price, spec) if is_on_tick(price, spec) else price


def _settle_gone_rows(
    broker: TradovateBroker, *, account_id: int, rows: list[Order], working: dict[int, Any]
) -> None:
    """Rows the broker no longer has working become filled or cancelled, as it says."""
    gone = [row for row in rows if row.broker_order_id not in working]
    if not gone:
        return
    statuses = broker.order_statuses(account_id=account_id)
    for row in gone:
        status = statuses.get(row.broker_order_id or 0)
        if status is None or status in WORKING_STATUSES:
            continue  # the broker does not say (yet): leave the row as it is
        row.transition(Order.State.FILLED if status in FILLED_STATUSES else Order.State.CANCELLED)
        row.save(update_fields=["state", "updated_at"])


def contract_id_resolve(*, connection_pk: int, symbol: str) -> int:
    """Tradovate's contract id of ``symbol`` (quotes name contracts by id)."""
    connection = BrokerConnection.objects.get(pk=connection_pk)
    broker = _broker(connection)
    try:
        return broker.contract(name=symbol).id
    finally:
        broker.close()


def md_token_for(*, connection_pk: int, refused: str | None = None) -> str:
    """The market-data token of a connection, for a (re)connect; a failure becomes a socket
    error (the stream backs off and tries again) and is recorded on the connection.

    ``refused``: the token the broker just refused at ``authorize`` (Tradovate revokes the
    token of a connection it closes for the quota). If it is still the stored one, the
    session is marked expired, so one fresh login (row-locked: one for all processes)
    replaces it with a validated token; a token stored meanwhile by another process is used."""
    connection = BrokerConnection.objects.filter(pk=connection_pk).first()
    if connection is None:
        raise SocketError(f"connection {connection_pk} no longer exists")
    if refused is not None and connection.has_token:
        stored = connection.md_access_token_encrypted or connection.access_token_encrypted
        if decrypt_str(stored) == refused:
            BrokerConnection.objects.filter(
                pk=connection.pk, access_token_encrypted=connection.access_token_encrypted
            ).update(token_expires_at=timezone.now())
            connection.refresh_from_db()
    try:
        return _logged_in(connection, lambda c: md_token_ensure(connection=c))
    except BrokerError as exc:
        raise SocketError(f"no market-data token for '{connection.label}': {exc}") from exc


# --- the monitor (the event loop) ---------------------------------------------------------------


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
            for running in self.feeds.values():
                running.stop.set()
            tasks = [*self.feed_tasks, *self.evaluations]
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
        """Bring watches and market-data sockets in line with the database."""
        found = await self._thread(monitor_targets)
        targets, feeds = found.positions, found.feeds
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
