"""Timing `fill_copy` from the inside, for the copy bench's breakdown, without changing it:
the broker objects `copytrade.replication` and `copytrade.exits` get are wrapped (each call
delegated unchanged, its start and end noted under the follower being worked on), each
follower's `follower_sync` is timed (wall, this thread's CPU, its SQL statements), and a
sampler notes every 5 ms where each copy thread is (the deepest frame of our code, and the
deepest frame of all: what it waits in)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT

OURS = tuple(str(ROOT / part) for part in ("copytrade", "trading", "config", "accounts"))


@dataclass
class CallLog:
    """Broker calls (follower or "leader", source, method, start, end), each follower's span and
    work (CPU seconds, SQL statements, seconds in SQL), and where the copy threads were."""

    calls: list[tuple[str, str, str, float, float]] = field(default_factory=list)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    work: dict[str, tuple[float, int, float]] = field(default_factory=dict)
    samples: Counter[str] = field(default_factory=Counter)
    local: threading.local = field(default_factory=threading.local)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        self.calls.clear()
        self.spans.clear()
        self.work.clear()
        self.samples.clear()


class TimedBroker:
    """The real broker; each call's start and end noted in ``log`` under the current follower."""

    def __init__(self, inner: Any, log: CallLog, source: str) -> None:
        self._inner, self._log, self._source = inner, log, source

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr) or name == "close":
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.time()
            try:
                return attr(*args, **kwargs)
            finally:
                who = getattr(self._log.local, "who", "leader")
                with self._log.lock:
                    self._log.calls.append((who, self._source, name, started, time.time()))

        return timed


def _where(frame: Any) -> str | None:
    """``our function:line -> the library call it is in -> the deepest function (its file)``
    for one thread's stack, or None when the thread is not in our code (an idle pool thread)."""
    deepest = f"{frame.f_code.co_name} ({Path(frame.f_code.co_filename).name})"
    libraries: list[str] = []  # the innermost and the outermost library frame
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(OURS):
            ours = f"{Path(name).parent.name}/{frame.f_code.co_name}:{frame.f_lineno}"
            via = "".join(f"{x} -> " for x in reversed(libraries))
            return f"{ours} -> {via}{deepest}"
        if "site-packages" in name:
            package = name.split("site-packages/", 1)[1].split("/", 1)[0]
            libraries[1:] = [f"{package}.{frame.f_code.co_name}"]
        frame = frame.f_back
    return None


def _sample(log: CallLog, stopping: threading.Event) -> None:
    while not stopping.wait(0.005):
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if names.get(ident, "").startswith("copy"):
                where = _where(frame)
                if where is not None:
                    log.samples[where] += 1


@contextlib.contextmanager
def copy_timed(log: CallLog) -> Iterator[None]:
    """`fill_copy` timed into ``log`` while inside (this process only)."""
    from django.db import connection

    from copytrade import exits, replication

    real = replication.broker_for, exits.broker_for, replication.follower_sync

    def timed_for(source: str, make: Any) -> Any:
        def broker_for(*, connection: Any) -> Any:
            return TimedBroker(make(connection=connection), log, source)

        return broker_for

    def follower_sync(*, outcome: Any, leader_net: int, compare_only: bool = False) -> None:
        who = str(outcome.follower_id)
        log.local.who = who
        queries: list[float] = []

        def query_timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(time.perf_counter() - began)

        started, cpu = time.time(), time.thread_time()
        try:
            with connection.execute_wrapper(query_timed):
                real[2](outcome=outcome, leader_net=leader_net, compare_only=compare_only)
        finally:
            log.spans[who] = (started, time.time())
            log.work[who] = (time.thread_time() - cpu, len(queries), sum(queries))
            log.local.who = "leader"

    replication.broker_for = timed_for("copy", real[0])
    exits.broker_for = timed_for("exits", real[1])
    replication.follower_sync = follower_sync
    stopping = threading.Event()
    sampler = threading.Thread(target=_sample, args=(log, stopping), daemon=True)
    sampler.start()
    try:
        yield
    finally:
        stopping.set()
        sampler.join()
        replication.broker_for, exits.broker_for, replication.follower_sync = real
