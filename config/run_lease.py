"""Proof that a live process is working on something: a Redis key renewed while it runs.

A process SIGKILLed mid-way stops renewing its key; a sweep then finds the work unfinished
with no live lease and runs it again within seconds (the work itself must be safe to run
twice: locks, deterministic clOrdIds, rows before calls)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from config.redis import redis_client

logger = logging.getLogger(__name__)


@contextmanager
def run_lease(*, key: str, ttl: float, what: str) -> Iterator[None]:
    """While the block runs, ``key`` exists in Redis (renewed every third of ``ttl`` seconds
    by a thread); it is deleted when the block ends. Redis being down is logged, never raised:
    a sweep may then run the work again, which it must tolerate anyway."""
    stop = threading.Event()
    seconds = max(1, int(ttl))

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                redis_client().set(key, "1", ex=seconds)
            except Exception:
                logger.exception("%s: lease not renewed", what)

    try:
        redis_client().set(key, "1", ex=seconds)
    except Exception:
        logger.exception("%s: lease not taken", what)
    renewer = threading.Thread(target=renew, name=f"lease {what}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=1)
        try:
            redis_client().delete(key)
        except Exception:
            logger.exception("%s: lease not released", what)


def run_leases_lapsed(*, keys: list[str]) -> list[str]:
    """The keys among ``keys`` whose lease is not held (their worker is gone, or never began)."""
    if not keys:
        return []
    alive = redis_client().mget(keys)
    return [key for key, lease in zip(keys, alive, strict=True) if lease is None]
