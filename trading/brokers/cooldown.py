"""A rate-limit cooldown shared by every process that uses one broker login (D47).

When Tradovate answers 429 (or a captcha penalty), every connection and process using that
login must stop, not only the one that was told. The cooldown lives in Redis, keyed by a hash
of the login (environment + user name), and every REST call and WebSocket connect checks it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from config.redis import redis_client, redis_key


@dataclass(frozen=True)
class Cooldown:
    until: float
    reason: str

    @property
    def remaining_seconds(self) -> float:
        return max(0.0, self.until - time.time())


def login_key(*, environment: str, username: str) -> str:
    return hashlib.sha256(f"{environment}:{username.lower()}".encode()).hexdigest()[:32]


def cooldown_start(*, login: str, seconds: float, reason: str) -> Cooldown:
    """Start (or extend, never shorten) the cooldown of ``login``."""
    key = redis_key("cooldown", login)
    until = time.time() + seconds
    client = redis_client()
    current = cooldown_get(login=login)
    if current is not None and current.until >= until:
        return current
    client.set(key, json.dumps({"until": until, "reason": reason}), ex=max(1, int(seconds) + 1))
    return Cooldown(until=until, reason=reason)


def cooldown_get(*, login: str) -> Cooldown | None:
    raw = redis_client().get(redis_key("cooldown", login))
    if raw is None:
        return None
    data = json.loads(raw)
    cooldown = Cooldown(until=float(data["until"]), reason=str(data["reason"]))
    return cooldown if cooldown.remaining_seconds > 0 else None


def cooldown_clear(*, login: str) -> None:
    redis_client().delete(redis_key("cooldown", login))
