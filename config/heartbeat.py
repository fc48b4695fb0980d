"""Process heartbeats in Redis: each long-running process proves it is alive (D30).

Every process instance writes ``{"ts", "host", "pid"}`` into the hash
``<prefix>:heartbeat:<component>`` under its own ``host:pid`` field, so several workers can run
and one stopping does not hide the others. The freshest instance speaks for the component.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass

from django.conf import settings

from config.redis import redis_client, redis_key

COMPONENTS = ("worker", "beat", "streams")


@dataclass(frozen=True)
class Heartbeat:
    component: str
    ts: float
    host: str
    pid: int

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.ts)


def _instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_beat(*, component: str) -> None:
    """Record that this process of ``component`` is alive now."""
    record = {"ts": time.time(), "host": socket.gethostname(), "pid": os.getpid()}
    key = redis_key("heartbeat", component)
    pipe = redis_client().pipeline()
    pipe.hset(key, _instance(), json.dumps(record))
    pipe.expire(key, 2 * settings.HEARTBEAT_MAX_AGE_SECONDS)
    pipe.execute()


def heartbeat_get(*, component: str) -> Heartbeat | None:
    """The freshest heartbeat of ``component``; stale instances are pruned on the way."""
    key = redis_key("heartbeat", component)
    client = redis_client()
    freshest: Heartbeat | None = None
    stale: list[bytes | str] = []
    for field, raw in client.hgetall(key).items():
        data = json.loads(raw)
        beat = Heartbeat(
            component=component, ts=float(data["ts"]), host=data["host"], pid=data["pid"]
        )
        if beat.age_seconds > 2 * settings.HEARTBEAT_MAX_AGE_SECONDS:
            stale.append(field)
        elif freshest is None or beat.ts > freshest.ts:
            freshest = beat
    if stale:
        client.hdel(key, *stale)
    return freshest


def heartbeat_instances(*, component: str) -> int:
    """How many processes of ``component`` have beaten within ``HEARTBEAT_MAX_AGE_SECONDS``."""
    count = 0
    for raw in redis_client().hvals(redis_key("heartbeat", component)):
        if time.time() - float(json.loads(raw)["ts"]) <= settings.HEARTBEAT_MAX_AGE_SECONDS:
            count += 1
    return count


def heartbeat_clear(*, component: str) -> None:
    """Remove this process's heartbeat (on clean shutdown)."""
    redis_client().hdel(redis_key("heartbeat", component), _instance())
