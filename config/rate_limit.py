"""A fixed-window rate limit in Redis, shared by every process (webhook doors, workers).

`rate_take` counts one event under a key in the current window of ``window_seconds`` and says
whether it is over ``limit``. Redis down: the event is allowed and the failure logged (a
limit must never stop trading on its own)."""

from __future__ import annotations

import logging
import math
import time

import redis

from config.redis import redis_client, redis_key

logger = logging.getLogger(__name__)


def rate_take(*, key: str, limit: int, window_seconds: int) -> int | None:
    """Count one event under ``key``: None while the window's count is within ``limit``,
    else the whole seconds until the window ends (an HTTP Retry-After)."""
    now = time.time()
    window = int(now // window_seconds)
    name = redis_key("rate", key, window)
    try:
        pipe = redis_client().pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds + 1)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("rate limit %s not counted (Redis: %s): allowed", key, exc)
        return None
    if int(count) <= limit:
        return None
    return max(1, math.ceil((window + 1) * window_seconds - now))
