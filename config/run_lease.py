"""Proof that a live process is working on something: a Redis key renewed while it runs.

A process SIGKILLed mid-way stops renewing its key; a sweep then finds the work unfinished
with no live lease and runs it again within seconds (the work itself must be safe to run
twice: locks, deterministic clOrdIds, rows before calls).

Several processes may hold one lease at once (a large signal's chunks run in several worker
processes): the key counts its holders, each renews it, and it is gone when the last holder
ends or when no holder has renewed it for ``ttl`` seconds (every holder killed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.redis import redis_client

logger = logging.getLogger(__name__)


@contextmanager
def run_lease(*, key: str, ttl: float, what: str) -> Iterator[None]:
    """While the block runs, ``key`` exists in Redis (renewed every third of ``ttl`` seconds
    by a thread); it is deleted when the last of its holders' blocks ends. Redis being down is
    logged, never raised: a sweep may then run the work again, which it must tolerate anyway."""
    stop = threading.Event()
    seconds = max(1, int(ttl))

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                client = redis_client()
                if not client.expire(key, seconds):  # lapsed meanwhile: hold it again
                    _take(client, key, seconds)
            except Exception:
                logger.exception("%s: lease not renewed", what)

    try:
        _take(redis_client(), key, seconds)
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
            _release(key)
        except Exception:
            logger.exception("%s: lease not released", what)


def _take(client: Any, key: str, seconds: int) -> None:
    """One holder more, the key living ``seconds`` from now."""
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, seconds)
    pipe.execute()


_RELEASE = """
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
"""


def _release(key: str) -> None:
    """One holder fewer; the key goes with the last (in one step: a holder taking it at that
    moment is never deleted)."""
    redis_client().eval(_RELEASE, 1, key)


def run_leases_lapsed(*, keys: list[str]) -> list[str]:
    """The keys among ``keys`` whose lease is not held (their worker is gone, or never began)."""
    if not keys:
        return []
    alive = redis_client().mget(keys)
    return [key for key, lease in zip(keys, alive, strict=True) if lease is None]
