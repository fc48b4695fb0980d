"""Many broker calls at once, at most N in flight per login, on one thread pool per process.

A fan-out sends one order per account; waiting for each answer before the next would cost one
broker round trip per account. Here every call is sent at once on the process's pool
(``FANOUT_HTTP_THREADS``), over the process's shared keep-alive HTTP client
(trading/brokers/tradovate/rest.py), with at most ``per_login`` in flight per login
(Tradovate's limits are per login). A login's 429 starts its shared cooldown, and every call of
it not yet sent is then refused without being sent (the REST client checks the cooldown before
each request). Answers are handed back as they come: one slow call never holds another's.

Calls run on pool threads: they must not touch the database (a broker call does not).
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from django.conf import settings

Tag = TypeVar("Tag")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process's pool (a forked worker child makes its own: threads do not survive fork)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(os.getpid())
        if pool is None:
            pool = _POOLS[os.getpid()] = ThreadPoolExecutor(
                max_workers=settings.FANOUT_HTTP_THREADS, thread_name_prefix="broker-call"
            )
        return pool


class CallQueue(Generic[Tag]):
    """Broker calls sent at once and answered as they come. At most ``per_login`` calls of one
    login are in flight; the others wait their turn in the order sent. `answers` hands back
    everything answered since the last look (at least one answer), so the caller's database
    work is per batch of answers, not per call, while no answer waits for a slower one.

    Only the thread that owns the queue calls `send` and `answers`; the calls run on the pool.
    """

    def __init__(self, *, per_login: int) -> None:
        self.per_login = max(1, per_login)
        self._answered: queue.SimpleQueue[tuple[Hashable, Tag, Any]] = queue.SimpleQueue()
        self._in_flight: dict[Hashable, int] = {}
        self._waiting: dict[Hashable, deque[tuple[Tag, Callable[[], Any]]]] = {}
        self.pending = 0

    def send(self, login: Hashable, tag: Tag, call: Callable[[], Any]) -> None:
        """Send ``call`` (now, or when one of the login's calls in flight is answered)."""
        self.pending += 1
        if self._in_flight.get(login, 0) < self.per_login:
            self._start(login, tag, call)
        else:
            self._waiting.setdefault(login, deque()).append((tag, call))

    def _start(self, login: Hashable, tag: Tag, call: Callable[[], Any]) -> None:
        self._in_flight[login] = self._in_flight.get(login, 0) + 1

        def run() -> None:
            try:
                result: Any = call()
            except Exception as exc:  # the caller records it, in the broker's words
                result = exc
            self._answered.put((login, tag, result))

        _pool().submit(run)

    def answers(self) -> list[tuple[Tag, Any]]:
        """Every ``(tag, result or exception)`` answered since the last look; waits for the
        first. Empty when nothing is pending."""
        if self.pending == 0:
            return []
        got = [self._answered.get()]
        while True:
            try:
                got.append(self._answered.get_nowait())
            except queue.Empty:
                break
        for login, _, _ in got:
            self.pending -= 1
            self._in_flight[login] -= 1
            waiting = self._waiting.get(login)
            if waiting:
                self._start(login, *waiting.popleft())
        return [(tag, result) for _, tag, result in got]
