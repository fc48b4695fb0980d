"""The streams process's user streams: one broker WebSocket per login, mirrored in order.

``manage.py run_streams`` runs one `UserStreams` beside the position monitor. What it
guarantees:

- Every ``refresh_seconds`` it reads which logins need a stream (`stream_logins_wanted`). For
  each one it does not stream yet it tries to take the login's Redis lease
  (`trading.stream_lease`); only with the lease does it open the login's `TradovateSocket`
  (connect gate shared with the market-data sockets, heartbeats, dead detection, reconnects
  with a fresh snapshot). So a login has one reader in this process (one entry per login key,
  however many traders or refreshes ask for it) and one across processes (the lease).
- Leases are renewed every third of ``STREAM_LEASE_SECONDS``. A lease that is not renewed
  (another process has it, or Redis could not be reached for a whole lease) closes its stream
  at once, and events still queued are dropped: the new holder's snapshot covers them. A
  login no longer wanted is closed after its queued events are applied, and its lease freed;
  so are all on a clean stop (SIGTERM). A killed process's logins are taken over by another
  process once its leases run out. A process that froze past its lease applies nothing until
  a renewal confirms the lease is still its own.
- A process leases free logins up to its share (logins / live streams processes, by their
  heartbeats), and any login still free at its next refresh: replicas started together split
  the logins; nothing stays unstreamed for want of a share.
- Every event (each ``props``, and each "sync" snapshot: on every connect and every
  ``STREAM_RESYNC_SECONDS``) goes into the login's queue in arrival order; one consumer per
  login hands them one at a time to ``trading.mirror.mirror_apply`` in a thread: in order,
  never two of one login at once. A failing apply is logged with its type and words and
  counted; the stream goes on. Queue depth (now and highest) is measured and reported.
- The access token is the connection's stored session, else one login (`user_token_for`); a
  token refused at ``authorize`` is replaced by one fresh login; a connection in error is not
  logged in again until its owner tests it anew.
- The state of each held login (connected, last snapshot, last event, last error, holder,
  queue) is written to Redis with each renewal (`trading.stream_state`) for /healthz.
Nothing is logged with a token or a password in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection
from config.heartbeat import heartbeat_instances
from trading.brokers.base import BrokerError
from trading.brokers.services import (
    broker_token_ensure,
    broker_token_usable,
    connection_record_error,
)
from trading.brokers.tradovate.ws import ConnectGate, SocketError, StreamEvent, TradovateSocket
from trading.mirror import mirror_apply
from trading.stream_lease import (
    lease_holder_new,
    lease_holders,
    leases_acquire,
    leases_release,
    leases_renew,
)
from trading.stream_selectors import StreamLogin, stream_logins_wanted
from trading.stream_state import (
    StreamProgress,
    StreamState,
    stream_state_delete,
    stream_states_write,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
Apply = Callable[..., None]  # mirror_apply's shape: (*, connection_pk, event)

QUEUE_WARN_DEPTH = 1000  # a queue this deep is said in the log (the mirror falls behind)
DRAIN_SECONDS = 15.0  # a clean close waits this long for queued events to be applied
MAX_TOKEN_BACKOFF = 60.0


# --- the access token (a thread) --------------------------------------------------------------


@dataclass(frozen=True)
class UserToken:
    access_token: str = field(repr=False)
    user_id: int


def user_token_for(*, connection_pk: int, refused: str | None = None) -> UserToken:
    """The access token (and the broker's user id) of a connection, for a (re)connect of its
    user stream. A failure becomes a `SocketError` (the stream backs off and tries again) and
    is recorded on the connection.

    ``refused``: the token the broker just refused at ``authorize``. If it is still the stored
    one, the session is marked expired, so one fresh login (row-locked: one for all processes)
    replaces it; a token stored meanwhile by another process is used as it is."""
    connection = BrokerConnection.objects.filter(pk=connection_pk).first()
    if connection is None:
        raise SocketError(f"connection {connection_pk} no longer exists")
    if (
        refused is not None
        and connection.has_token
        and decrypt_str(connection.access_token_encrypted) == refused
    ):
        BrokerConnection.objects.filter(
            pk=connection.pk, access_token_encrypted=connection.access_token_encrypted
        ).update(token_expires_at=timezone.now())
        connection.refresh_from_db()
    if connection.status == BrokerConnection.Status.ERROR and not broker_token_usable(connection):
        raise SocketError(
            f"connection '{connection.label}' is in error "
            f"({connection.last_error or 'no detail'}): test it again under Connections"
        )
    try:
        token = broker_token_ensure(connection=connection)
    except BrokerError as exc:
        connection_record_error(connection=connection, error=exc)
        raise SocketError(f"no access token for '{connection.label}': {exc}") from exc
    if connection.broker_user_id is None:
        raise SocketError(f"connection '{connection.label}': the broker gave no user id")
    return UserToken(access_token=token, user_id=connection.broker_user_id)


# --- one login's stream -------------------------------------------------------------------------


@dataclass
class _Stream:
    login: StreamLogin
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    queue: asyncio.Queue[StreamEvent] = field(default_factory=asyncio.Queue)
    socket: TradovateSocket | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    progress: StreamProgress = field(default_factory=StreamProgress)
    down_since: float | None = field(default_factory=time.time)
    error: str = ""  # why it cannot connect, when the socket does not say it (no token, ...)

    @property
    def connected(self) -> bool:
        return self.socket is not None and self.socket.ready.is_set()

    async def enqueue(self, event: StreamEvent) -> None:
        self.queue.put_nowait(event)
        depth = self.queue.qsize()
        progress = self.progress
        progress.queue_max = max(progress.queue_max, depth)
        if depth % QUEUE_WARN_DEPTH == 0:
            logger.warning(
                "user stream of connection %s: %s events wait to be applied",
                self.login.connection_pk,
                depth,
            )
        if event.entity_type == "sync":
            progress.synced_at = time.time()
        else:
            progress.events += 1
            progress.last_event_at = time.time()

    def state(self, *, holder: str) -> StreamState:
        now = time.time()
        if self.connected:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = now
        error = self.error
        if error == "" and self.socket is not None:
            error = self.socket.stats.last_error
        return StreamState(
            login=self.login.login,
            connection_pks=list(self.login.connection_pks),
            holder=holder,
            connected=self.connected,
            updated_at=now,
            progress=replace(self.progress),
            down_since=self.down_since,
            last_error=error,
            queue_depth=self.queue.qsize(),
        )


def _closing_connection(function: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return function()
        finally:
            db_connection.close()  # back to the pool

    return run


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))


class UserStreams:
    def __init__(
        self,
        *,
        gate: ConnectGate,
        refresh_seconds: float = 3.0,
        lease_seconds: float | None = None,
        resync_seconds: float | None = None,
        apply: Apply = mirror_apply,
        holder: str | None = None,
        threads: int = 4,
    ) -> None:
        self.gate = gate
        self.refresh_seconds = refresh_seconds
        self.lease_seconds = (
            settings.STREAM_LEASE_SECONDS if lease_seconds is None else lease_seconds
        )
        self.resync_seconds = (
            settings.STREAM_RESYNC_SECONDS if resync_seconds is None else resync_seconds
        )
        self.apply = apply
        self.holder = lease_holder_new() if holder is None else holder
        self.streams: dict[str, _Stream] = {}  # login key -> its stream (lease held)
        self.free_before: set[str] = set()  # logins seen free, not taken, at the last refresh
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mirror")
        self._renewed_at = time.monotonic()

    async def _thread(self, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _closing_connection(function))

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh and renew until ``stop``; then close every stream (queued events applied
        first), write their last state and free their leases."""
        logger.info(
            "user streams started as %s (lease %.1f s, resync every %.0f s)",
            self.holder,
            self.lease_seconds,
            self.resync_seconds,
        )
        self._renewed_at = time.monotonic()
        renewer = asyncio.create_task(self._keep_leases(stop))
        try:
            # Processes started together (replicas) see each other's heartbeat before they
            # take leases, so they share the logins instead of the first taking them all.
            await _sleep_or_stop(stop, self.refresh_seconds)
            while not stop.is_set():
                try:
                    await self.refresh()
                except Exception:
                    logger.exception("user streams: refresh failed (retrying)")
                await _sleep_or_stop(stop, self.refresh_seconds)
        finally:
            renewer.cancel()
            closing = list(self.streams.values())
            self.streams.clear()
            await asyncio.gather(*(self._close(s, drain=True) for s in closing))
            for stream in closing:
                stream.error = "closed: its streams process stopped"
            try:
                await asyncio.to_thread(
                    stream_states_write, states=[s.state(holder="") for s in closing]
                )
                await asyncio.to_thread(
                    leases_release, logins=[s.login.login for s in closing], holder=self.holder
                )
            except Exception:  # Redis down: the leases run out by themselves
                logger.exception("user streams: leases not released")
            self._pool.shutdown(wait=False, cancel_futures=True)
            logger.info("user streams stopped")

    async def refresh(self) -> None:
        """Open the wanted logins whose lease this process can take; close those no longer
        wanted (their queued events applied, their lease and state dropped)."""
        wanted = {w.login: w for w in await self._thread(stream_logins_wanted)}
        for login in [x for x in self.streams if x not in wanted]:
            stream = self.streams.pop(login)
            await self._close(stream, drain=True)
            await asyncio.to_thread(leases_release, logins=[login], holder=self.holder)
            await asyncio.to_thread(stream_state_delete, login=login)
            logger.info(
                "user stream of connection %s closed: not needed", stream.login.connection_pk
            )
        for login, want in wanted.items():
            running = self.streams.get(login)
            if running is not None:
                running.login = want  # the connections using it may have changed
                if running.tasks[0].done():  # its runner ended on its own: a bug, logged
                    self.streams.pop(login)
                    await self._close(running, drain=False)
                    await asyncio.to_thread(leases_release, logins=[login], holder=self.holder)
        candidates = [login for login in wanted if login not in self.streams]
        held_elsewhere = await asyncio.to_thread(lease_holders, logins=candidates)
        free = [login for login in candidates if login not in held_elsewhere]
        if not free:
            self.free_before = set()
            return
        processes = await asyncio.to_thread(heartbeat_instances, component="streams")
        taken = await asyncio.to_thread(
            leases_acquire,
            logins=self._to_take(free, wanted=len(wanted), processes=processes),
            holder=self.holder,
            seconds=self.lease_seconds,
        )
        self.free_before = set(free) - taken
        for login in sorted(taken):
            self.streams[login] = self._open(wanted[login])

    def _to_take(self, free: list[str], *, wanted: int, processes: int) -> list[str]:
        """Free logins to try to lease now: up to this process's share (by the streams
        processes alive), plus any already free at the last refresh (nobody took them)."""
        room = max(0, math.ceil(wanted / max(1, processes)) - len(self.streams))
        overdue = [x for x in free if x in self.free_before]
        fresh = [x for x in free if x not in self.free_before]
        random.shuffle(fresh)  # peers starting together try different logins first
        return overdue + fresh[:room]

    # --- leases and state ------------------------------------------------------------------

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        every = self.lease_seconds / 3
        while not stop.is_set():
            await _sleep_or_stop(stop, every)
            if stop.is_set():
                return
            await self.renew()

    async def renew(self) -> None:
        """Renew every held lease; a stream whose lease is lost is closed at once. Then write
        the state of every stream still held."""
        logins = list(self.streams)
        started = time.monotonic()
        try:
            held = await asyncio.to_thread(
                leases_renew, logins=logins, holder=self.holder, seconds=self.lease_seconds
            )
            self._renewed_at = started  # each lease held now runs at least until started + ttl
        except Exception as exc:
            if time.monotonic() - self._renewed_at < self.lease_seconds * 0.9:
                logger.warning("user streams: leases not renewed (%s: %s)", type(exc).__name__, exc)
                return
            logger.error("user streams: leases not renewed for a whole lease: closing all")
            held = set()
        for login in logins:
            if login in held or login not in self.streams:
                continue
            stream = self.streams.pop(login)
            logger.warning(
                "user stream of connection %s: lease lost, closed", stream.login.connection_pk
            )
            await self._close(stream, drain=False)
        try:
            await asyncio.to_thread(
                stream_states_write,
                states=[s.state(holder=self.holder) for s in self.streams.values()],
            )
        except Exception:
            logger.exception("user streams: state not written")

    # --- one stream ----------------------------------------------------------------------------

    def _open(self, login: StreamLogin) -> _Stream:
        stream = _Stream(login=login)
        stream.tasks = [
            asyncio.create_task(self._run_stream(stream)),
            asyncio.create_task(self._consume(stream)),
        ]
        for task in stream.tasks:
            task.add_done_callback(_log_crash)
        logger.info("user stream of connection %s: lease taken, opening", login.connection_pk)
        return stream

    async def _close(self, stream: _Stream, *, drain: bool) -> None:
        stream.stop.set()
        runner, consumer = stream.tasks
        if drain:
            await asyncio.wait([runner], timeout=DRAIN_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream.queue.join(), DRAIN_SECONDS)
        consumer.cancel()
        runner.cancel()
        await asyncio.wait(stream.tasks, timeout=5)

    async def _run_stream(self, stream: _Stream) -> None:
        # The connection is read from ``stream.login`` at each use: the login's connections may
        # change while it streams (one deleted and the same login added again).
        first: UserToken | None = None
        failures = 0
        while first is None:
            pk = stream.login.connection_pk
            try:
                first = await self._thread(functools.partial(user_token_for, connection_pk=pk))
            except Exception as exc:
                failures += 1
                stream.error = _words(exc)
                logger.warning("user stream of connection %s: %s", pk, stream.error)
                await _sleep_or_stop(stream.stop, min(MAX_TOKEN_BACKOFF, 2.0 ** (failures - 1)))
                if stream.stop.is_set():
                    return
        stream.error = ""
        last_token, refusals_seen, given = first.access_token, 0, False

        async def token() -> str:
            nonlocal last_token, refusals_seen, given
            if not given:
                given = True
                return last_token
            refused = None
            if socket.stats.auth_refused != refusals_seen:  # the last token was refused
                refusals_seen = socket.stats.auth_refused
                refused = last_token
            fresh = await self._thread(
                functools.partial(
                    user_token_for, connection_pk=stream.login.connection_pk, refused=refused
                )
            )
            last_token = fresh.access_token
            return last_token

        socket = TradovateSocket(
            url=stream.login.url,
            token=token,
            user_id=first.user_id,
            login=stream.login.login,
            gate=self.gate,
            on_event=stream.enqueue,
            cooldown_seconds=settings.TRADOVATE_429_COOLDOWN_SECONDS,
        )
        socket.name = f"user stream of connection {stream.login.connection_pk}"
        stream.socket = socket
        resyncer = asyncio.create_task(self._resync(stream, socket))
        try:
            await socket.run(stream.stop)
        finally:
            resyncer.cancel()

    async def _resync(self, stream: _Stream, socket: TradovateSocket) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            if not socket.ready.is_set():
                continue  # (re)connecting: the connect's own snapshot comes anyway
            try:
                await socket.resync()
            except (SocketError, TimeoutError) as exc:
                logger.warning(
                    "user stream of connection %s: snapshot not refreshed: %s",
                    stream.login.connection_pk,
                    _words(exc),
                )

    async def _consume(self, stream: _Stream) -> None:
        while True:
            event = await stream.queue.get()
            # A process that froze past its lease may be streaming a login another process
            # took meanwhile: nothing is applied until a renewal says the lease is still ours
            # (a lost lease cancels this task).
            while time.monotonic() - self._renewed_at > self.lease_seconds * 0.9:
                await asyncio.sleep(0.1)
            try:
                for pk in stream.login.connection_pks:
                    try:
                        await self._thread(
                            functools.partial(self.apply, connection_pk=pk, event=event)
                        )
                    except Exception as exc:  # logged and counted; the stream goes on
                        stream.progress.apply_failures += 1
                        stream.progress.last_apply_error = _words(exc)
                        logger.error(
                            "user stream of connection %s: applying %s %s failed: %s",
                            pk,
                            event.entity_type,
                            event.event_type,
                            stream.progress.last_apply_error,
                            exc_info=exc,
                        )
                stream.progress.applied += 1
            finally:
                stream.queue.task_done()


def _words(exc: BaseException) -> str:
    return (
        str(exc) if isinstance(exc, (SocketError, BrokerError)) else f"{type(exc).__name__}: {exc}"
    )


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("user streams: a stream task stopped", exc_info=task.exception())
