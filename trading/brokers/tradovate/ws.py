"""Tradovate's WebSockets: frames ``o h a c``, ``authorize``; the user stream (``user/syncrequest``,
props) here, the market-data stream in ``md.py``, both on `FramedSocket`.

What keeps them alive in the real world:
- connects pass a per-process gate: at most 2 handshakes at once, starts spaced (D39, D40);
- before connecting, the login's shared cooldown (Redis) is honoured; a 429 starts it (D47);
- the client sends ``[]`` every 2.5 s; a connection that has sent nothing (not even ``h``) for
  ``dead_after`` seconds (default 10 s = 4 missed server heartbeats) is dead (D34);
- reconnects back off exponentially with jitter and resync from a fresh snapshot;
- ``max_size`` admits the largest real sync payloads (D44: tens of MB).
Order placement never waits on this stream (D35, D43): orders go over REST.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from trading.brokers.cooldown import cooldown_get, cooldown_start

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CLIENT_HEARTBEAT_SECONDS = 2.5
DEAD_AFTER_SECONDS = 10.0


class SocketError(Exception):
    """The socket failed in a way the run loop recovers from by reconnecting."""


class DeadConnection(SocketError):
    pass


class RequestFailed(SocketError):
    """The server answered a request with a status other than 200 (``d`` is its words)."""

    def __init__(self, endpoint: str, status: object, text: object) -> None:
        super().__init__(f"{endpoint} failed with {status}: {text}")
        self.status = status
        self.text = "" if text is None else str(text)


class ServerShutdown(SocketError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Tradovate closed the stream: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class StreamEvent:
    """A ``props`` change, or the full ``sync`` snapshot (entity_type "sync")."""

    entity_type: str
    event_type: str
    entity: Any


class ConnectGate:
    """At most ``limit`` connects in progress at once in this process, started ``spacing`` apart."""

    def __init__(self, *, limit: int = 2, spacing: float = 0.25) -> None:
        self.limit = limit
        self.spacing = spacing
        self._semaphore = asyncio.Semaphore(limit)
        self._lock = asyncio.Lock()
        self._last_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._semaphore:
            async with self._lock:
                wait = self._last_start + self.spacing - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last_start = time.monotonic()
            yield


@dataclass
class SocketStats:
    connects: int = 0
    syncs: int = 0
    dead_detected: int = 0
    rate_limited: int = 0
    auth_refused: int = 0  # authorize answered 401: the token is dead (revoked or expired)
    last_frame_at: float = 0.0
    last_error: str = ""
    events: int = 0
    sync_bytes: int = 0
    history: list[str] = field(default_factory=list)


class FramedSocket:
    """One Tradovate WebSocket kept open until ``stop`` is set: gate, shared cooldown, authorize,
    heartbeats, dead detection, reconnects with backoff. A subclass says what happens once the
    socket is authorized (`_on_open`) and what a server event means (`_on_event`)."""

    name = "stream"  # for logs

    def __init__(
        self,
        *,
        url: str,
        token: Callable[[], Awaitable[str]],
        login: str,
        gate: ConnectGate,
        dead_after: float = DEAD_AFTER_SECONDS,
        heartbeat_every: float = CLIENT_HEARTBEAT_SECONDS,
        max_backoff: float = 60.0,
        open_timeout: float = 10.0,
        cooldown_seconds: float = 3600.0,
    ) -> None:
        self.url = url
        self.token = token
        self.login = login
        self.gate = gate
        self.dead_after = dead_after
        self.heartbeat_every = heartbeat_every
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.cooldown_seconds = cooldown_seconds
        self.stats = SocketStats()
        self.ready = asyncio.Event()  # set once `_on_open` has finished, cleared on disconnect
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        # request id -> called with the answer by the reader, before any later frame is read
        self._deliver: dict[int, Callable[[dict[str, Any]], Awaitable[None]]] = {}

    # --- what a subclass adds ----------------------------------------------------------------

    async def _on_open(self, websocket: ClientConnection) -> list[asyncio.Task[None]]:
        """Called once the socket is authorized; returns tasks that live as long as the session
        (one that ends with an error ends the session, which then reconnects)."""
        return []

    async def _on_event(self, event: str, data: Any) -> None:
        """A server event other than ``shutdown`` (``props``, ``md``, ...)."""

    # --- the run loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            cooldown = await asyncio.to_thread(cooldown_get, login=self.login)
            if cooldown is not None:
                await _sleep_or_stop(stop, min(cooldown.remaining_seconds, self.max_backoff))
                continue
            try:
                await self._session(stop)
                failures = 0
            except (SocketError, ConnectionClosed, OSError, TimeoutError) as exc:
                failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                self.stats.history.append(self.stats.last_error)
                logger.warning("tradovate %s: %s (reconnecting)", self.name, self.stats.last_error)
            except InvalidStatus as exc:
                failures += 1
                status = exc.response.status_code
                self.stats.last_error = f"handshake refused: HTTP {status}"
                self.stats.history.append(self.stats.last_error)
                if status == 429:
                    self.stats.rate_limited += 1
                    await asyncio.to_thread(
                        cooldown_start,
                        login=self.login,
                        seconds=self.cooldown_seconds,
                        reason="HTTP 429 on WebSocket connect",
                    )
            finally:
                self.ready.clear()
                self._fail_pending()
            if not stop.is_set() and failures > 0:
                delay = min(self.max_backoff, 0.5 * 2 ** min(failures - 1, 8))
                await _sleep_or_stop(stop, delay * random.uniform(0.5, 1.0))

    async def _session(self, stop: asyncio.Event) -> None:
        async with self.gate.slot():
            websocket = await connect(
                self.url,
                max_size=MAX_MESSAGE_BYTES,
                open_timeout=self.open_timeout,
                ping_interval=None,
                close_timeout=2,
            )
            self.stats.connects += 1
            self.stats.last_frame_at = time.monotonic()
            reader = asyncio.create_task(self._read(websocket))
            # A reader that dies must wake whoever waits for an answer, at once.
            reader.add_done_callback(lambda _: self._fail_pending())
            try:
                await self._request(
                    websocket,
                    "authorize",
                    body=await self.token(),
                    raw=True,
                    timeout=self.open_timeout,
                )
            except BaseException as exc:
                if isinstance(exc, RequestFailed) and exc.status == 401:
                    self.stats.auth_refused += 1
                reader.cancel()
                await websocket.close()
                raise
        heartbeat = asyncio.create_task(self._heartbeat(websocket))
        watchdog = asyncio.create_task(self._watchdog())
        stopper = asyncio.create_task(stop.wait())
        extra: list[asyncio.Task[None]] = []
        try:
            extra = await self._on_open(websocket)
            self.ready.set()
            done, _ = await asyncio.wait(
                {reader, watchdog, stopper, *extra}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not stopper:
                    task.result()  # raises the reader's, watchdog's or subclass task's error
        finally:
            for task in (heartbeat, watchdog, stopper, reader, *extra):
                task.cancel()
            await websocket.close()

    # --- frames ------------------------------------------------------------------------------

    async def _read(self, websocket: ClientConnection) -> None:
        async for frame in websocket:
            self.stats.last_frame_at = time.monotonic()
            text = frame if isinstance(frame, str) else frame.decode()
            kind = text[:1]
            if kind == "a":
                if len(text) > 1_000_000:
                    self.stats.sync_bytes = max(self.stats.sync_bytes, len(text))
                for message in json.loads(text[1:], parse_float=Decimal):
                    await self._dispatch(message)
            elif kind == "c":
                raise ServerShutdown(text[1:])
        raise SocketError("the stream ended")

    async def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if "i" in message and message["i"] in self._pending:
            future = self._pending.pop(message["i"])
            deliver = self._deliver.pop(message["i"], None)
            if deliver is not None and not future.done() and message.get("s") == 200:
                await deliver(message)  # in frame order: before any event read after it
            if not future.done():
                future.set_result(message)
            return
        event = message.get("e")
        data = message.get("d")
        if event == "shutdown":
            reason = data.get("reasonCode") if isinstance(data, dict) else data
            raise ServerShutdown(str(reason))
        if isinstance(event, str):
            await self._on_event(event, data)

    async def _request(
        self,
        websocket: ClientConnection,
        endpoint: str,
        *,
        body: Any,
        raw: bool = False,
        timeout: float,
        deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Send a request and wait for its answer. ``deliver`` (optional) is awaited with a
        200 answer by the reader itself, so it sees the answer in stream order: events that
        arrive after the answer reach `_on_event` only once ``deliver`` has returned."""
        request_id = 0 if endpoint == "authorize" else next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        if deliver is not None:
            self._deliver[request_id] = deliver
        payload = body if raw else json.dumps(body)
        try:
            await websocket.send(f"{endpoint}\n{request_id}\n\n{payload}")
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(request_id, None)
            self._deliver.pop(request_id, None)
        status = answer.get("s")
        if status == 429:
            await asyncio.to_thread(
                cooldown_start,
                login=self.login,
                seconds=self.cooldown_seconds,
                reason=f"429 on WebSocket {endpoint}",
            )
            raise SocketError(f"{endpoint}: rate limited (429)")
        if status != 200:
            raise RequestFailed(endpoint, status, answer.get("d"))
        return answer

    async def _heartbeat(self, websocket: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_every)
            await websocket.send("[]")

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.dead_after / 4))
            silent = time.monotonic() - self.stats.last_frame_at
            if silent > self.dead_after:
                self.stats.dead_detected += 1
                raise DeadConnection(f"no frame from Tradovate for {silent:.1f} s")

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SocketError("the connection closed before the answer"))
                future.exception()  # mark retrieved
        self._pending.clear()
        self._deliver.clear()


class TradovateSocket(FramedSocket):
    """One login's user stream: synced from a full snapshot on every connect, then props.

    Every event, the snapshots included, reaches ``on_event`` in the order the server sent it:
    a snapshot is handed over by the reader as its answer arrives, before any later props."""

    def __init__(
        self,
        *,
        user_id: int,
        on_event: Callable[[StreamEvent], Awaitable[None]] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.user_id = user_id
        self.on_event = on_event
        self.name = f"user stream {user_id}"
        self._websocket: ClientConnection | None = None

    @property
    def synced(self) -> asyncio.Event:
        return self.ready

    async def _on_open(self, websocket: ClientConnection) -> list[asyncio.Task[None]]:
        self._websocket = websocket
        await self._sync(websocket)
        return []

    async def resync(self) -> None:
        """Ask for a full snapshot again on the open socket (periodic reconciliation); it
        reaches ``on_event`` as a "sync" event, in stream order. Raises `SocketError` when the
        socket is not open and synced, or the request fails (the session goes on: a dead
        connection is the watchdog's to detect)."""
        websocket = self._websocket
        if websocket is None or not self.ready.is_set():
            raise SocketError(f"{self.name}: not connected, no snapshot requested")
        await self._sync(websocket)

    async def _sync(self, websocket: ClientConnection) -> None:
        await self._request(
            websocket,
            "user/syncrequest",
            body={"users": [self.user_id]},
            timeout=60,
            deliver=self._deliver_snapshot,
        )
        self.stats.syncs += 1

    async def _deliver_snapshot(self, answer: dict[str, Any]) -> None:
        if self.on_event is not None:
            await self.on_event(StreamEvent("sync", "Snapshot", answer.get("d")))

    async def _on_event(self, event: str, data: Any) -> None:
        if event == "props" and isinstance(data, dict):
            self.stats.events += 1
            if self.on_event is not None:
                await self.on_event(
                    StreamEvent(
                        str(data.get("entityType")), str(data.get("eventType")), data.get("entity")
                    )
                )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
