"""Driving `UserStreams` in this process, and counting user sockets at the simulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from trading.brokers.tradovate.ws import StreamEvent
from trading.user_streams import UserStreams


def user_sockets(sim: Any) -> Counter[int]:
    """Authorized user-stream sockets (not market data) open at the simulator, per sim user."""
    return Counter(
        s["userId"]
        for s in sim.control.sockets()
        if not s["marketData"] and s["userId"] is not None
    )


@dataclass
class Recorder:
    """Stands in for the mirror's body (a stub today): records what it is given, how many
    applies ran at once, and fails on the calls it is told to."""

    delay: float = 0.0
    fail_on: set[int] = field(default_factory=set)  # call numbers (1-based) that raise
    calls: list[tuple[int, StreamEvent]] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, *, connection_pk: int, event: StreamEvent) -> None:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.calls.append((connection_pk, event))
            number = len(self.calls)
        try:
            if self.delay:
                time.sleep(self.delay)
            if number in self.fail_on:
                raise ValueError(f"mirror broke on call {number}")
        finally:
            with self._lock:
                self.running -= 1

    def kinds(self) -> list[str]:
        return [event.entity_type for _, event in self.calls]


def run_until(
    streams: list[UserStreams],
    *,
    until: Callable[[], bool],
    timeout: float,
    then: Callable[[], Awaitable[None]] | None = None,
) -> float:
    """Run the managers until ``until()`` (called in a thread) holds, then ``then()`` (on the
    loop), then stop them cleanly. Returns the seconds ``until`` took."""

    async def main() -> float:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run(stop)) for s in streams]
        started = time.monotonic()
        try:
            while not await asyncio.to_thread(until):
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"not reached within {timeout} s")
                for task in tasks:
                    if task.done():
                        task.result()  # a crashed manager fails the test with its error
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            if then is not None:
                await then()
            return took
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)

    return asyncio.run(main())
