"""Which streams process holds a broker login's user stream: a lease in Redis.

Several ``run_streams`` processes may run; each login is streamed by exactly one of them.
Guarantees:
- a lease is taken with ``SET key holder NX PX ttl``: at most one holder at a time;
- it is renewed only by its holder (a Lua compare-and-renew), and released only by its holder
  (compare-and-delete): a process can never extend or drop another's lease;
- a holder that stops renewing (killed, frozen, cut off from Redis) loses the lease when the
  ttl runs out, and another process may take it. A holder whose renewal fails must stop
  streaming at once (``trading.user_streams`` does).
"""

from __future__ import annotations

import os
import socket
import uuid

from config.redis import redis_client, redis_key

# KEYS: the lease keys; ARGV[1] the holder, ARGV[2] the ttl in ms. Returns 1/0 per key.
_RENEW = """
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    renewed[i] = 1
  else
    renewed[i] = 0
  end
end
return renewed
"""

_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    released = released + redis.call('DEL', key)
  end
end
return released
"""


def lease_holder_new() -> str:
    """A holder id unique to this process instance (host, pid, and a random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _key(login: str) -> str:
    return redis_key("stream-lease", login)


def leases_acquire(*, logins: list[str], holder: str, seconds: float) -> set[str]:
    """Take the free leases among ``logins`` for ``holder``; returns the logins now held by it
    (taken now, or already its own: those are renewed too)."""
    if not logins:
        return set()
    ttl_ms = max(1, int(seconds * 1000))
    pipe = redis_client().pipeline(transaction=False)
    for login in logins:
        pipe.set(_key(login), holder, nx=True, px=ttl_ms)
    taken = pipe.execute()
    held = {login for login, ok in zip(logins, taken, strict=True) if ok}
    rest = [login for login in logins if login not in held]
    return held | leases_renew(logins=rest, holder=holder, seconds=seconds)


def leases_renew(*, logins: list[str], holder: str, seconds: float) -> set[str]:
    """Extend ``holder``'s leases among ``logins`` to ``seconds`` from now; returns those it
    still holds. A login missing from the answer is lost: its stream must stop at once."""
    if not logins:
        return set()
    ttl_ms = max(1, int(seconds * 1000))
    answer = redis_client().eval(_RENEW, len(logins), *[_key(x) for x in logins], holder, ttl_ms)
    return {login for login, ok in zip(logins, answer, strict=True) if int(ok) == 1}


def leases_release(*, logins: list[str], holder: str) -> int:
    """Give up ``holder``'s leases among ``logins`` (others' are untouched); how many."""
    if not logins:
        return 0
    return int(redis_client().eval(_RELEASE, len(logins), *[_key(x) for x in logins], holder))


def lease_holders(*, logins: list[str]) -> dict[str, str]:
    """login -> its current holder, for the logins that are held."""
    if not logins:
        return {}
    values = redis_client().mget([_key(x) for x in logins])
    return {
        login: value.decode() if isinstance(value, bytes) else str(value)
        for login, value in zip(logins, values, strict=True)
        if value is not None
    }
