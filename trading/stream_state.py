"""Each broker login's user-stream state in Redis, and what health makes of it.

The streams process holding a login's lease writes its state every few seconds (connected,
last snapshot, last event, last error, holder, queue depth); nobody else writes it. Health
compares the logins that should be streamed (PostgreSQL) with these states: a login whose
stream has been down longer than ``STREAM_DOWN_REPORT_SECONDS`` is reported with why, and
fails the check unless the cause is its owner's to fix (the connection is in error, e.g. a
wrong password: its owner sees that under Connections). Nothing here holds a secret.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from accounts.models import BrokerConnection
from config.redis import redis_client, redis_key
from trading.brokers.services import broker_token_usable
from trading.stream_selectors import stream_logins_wanted

STATE_KEEP_SECONDS = 24 * 3600


@dataclass
class StreamProgress:
    """What a login's stream has received and applied (kept by its holder, part of its state)."""

    synced_at: float | None = None  # the last snapshot received (Unix seconds)
    last_event_at: float | None = None  # the last props event received
    events: int = 0
    applied: int = 0
    apply_failures: int = 0
    last_apply_error: str = ""
    queue_max: int = 0  # the most events that waited at once


@dataclass(frozen=True)
class StreamState:
    login: str
    connection_pks: list[int]
    holder: str
    connected: bool
    updated_at: float  # Unix seconds
    progress: StreamProgress
    down_since: float | None = None  # when it was last seen not connected (None: connected)
    last_error: str = ""
    queue_depth: int = 0


_FIELDS = set(StreamState.__dataclass_fields__)


def _key(login: str) -> str:
    return redis_key("stream-state", login)


def stream_states_write(*, states: list[StreamState]) -> None:
    """Store the states (by their holder); kept a day, so a dead holder's last word stays."""
    if not states:
        return
    pipe = redis_client().pipeline(transaction=False)
    for state in states:
        pipe.set(_key(state.login), json.dumps(asdict(state)), ex=STATE_KEEP_SECONDS)
    pipe.execute()


def stream_state_delete(*, login: str) -> None:
    """Forget a login's state (it no longer needs a stream)."""
    redis_client().delete(_key(login))


def stream_states_read(*, logins: list[str]) -> dict[str, StreamState]:
    if not logins:
        return {}
    found: dict[str, StreamState] = {}
    for login, raw in zip(logins, redis_client().mget([_key(x) for x in logins]), strict=True):
        if raw is not None:
            data = json.loads(raw)
            data["progress"] = StreamProgress(**data.get("progress", {}))
            found[login] = StreamState(**{k: v for k, v in data.items() if k in _FIELDS})
    return found


def _when(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def streams_health(*, now: float | None = None) -> dict[str, Any]:
    """The ``broker_streams`` health check: one entry per login that should be streamed."""
    now = time.time() if now is None else now
    limit = settings.STREAM_DOWN_REPORT_SECONDS
    stale_after = 3 * settings.STREAM_LEASE_SECONDS  # the holder stopped writing: it is gone
    wanted = stream_logins_wanted()
    states = stream_states_read(logins=[w.login for w in wanted])
    connections = BrokerConnection.objects.in_bulk([w.connection_pk for w in wanted])
    entries: list[dict[str, Any]] = []
    failing: list[str] = []
    for want in wanted:
        state = states.get(want.login)
        connection = connections.get(want.connection_pk)
        owners_to_fix = (
            connection is not None
            and connection.status == BrokerConnection.Status.ERROR
            and not broker_token_usable(connection)
        )
        entry: dict[str, Any] = {"connections": list(want.connection_pks)}
        if state is None:
            entry.update(up=False, why="no streams process has opened it yet", down_seconds=None)
        else:
            age = now - state.updated_at
            entry.update(
                holder=state.holder,
                connected=state.connected,
                synced_at=_when(state.progress.synced_at),
                last_event_at=_when(state.progress.last_event_at),
                last_error=state.last_error,
                last_apply_error=state.progress.last_apply_error,
                queue_depth=state.queue_depth,
                queue_max=state.progress.queue_max,
                state_age_seconds=round(age, 1),
            )
            if age > stale_after:
                since = state.updated_at if state.down_since is None else state.down_since
                entry.update(
                    up=False,
                    why=f"its holder stopped reporting {round(age)} s ago (process gone?)",
                    down_seconds=round(now - since, 1),
                )
            elif not state.connected:
                since = state.down_since if state.down_since is not None else state.updated_at
                entry.update(
                    up=False,
                    why=state.last_error or "connecting",
                    down_seconds=round(now - since, 1),
                )
            else:
                entry.update(up=True, down_seconds=0.0)
        down = entry["down_seconds"]
        reported = not entry["up"] and (down is None or down > limit)
        entry["reported"] = reported
        if owners_to_fix and connection is not None and not entry["up"]:
            entry["why"] += f"; the connection is in error: {connection.last_error}"
        if reported and not owners_to_fix:
            pks = ", ".join(str(pk) for pk in want.connection_pks)
            failing.append(f"connection {pks}: {entry['why']}")
        entries.append(entry)
    check: dict[str, Any] = {"ok": not failing, "logins": entries}
    if failing:
        check["error"] = (
            f"{len(failing)} broker login(s) without a user stream for more than {limit:g} s: "
            + "; ".join(failing)
        )
    return check
