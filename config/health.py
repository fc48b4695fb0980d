"""``/healthz``: database, Redis and each required process heartbeat, with ages (D30).

The required processes are ``settings.HEALTH_REQUIRED_HEARTBEATS``: worker, beat and streams
(``manage.py run_streams``: the user streams and the position monitor) by default. With
streams required, ``broker_streams`` lists each broker login that should have a user stream
with its state (connected, last snapshot, last event, last error, holding process); it fails
when a login's stream has been down longer than ``STREAM_DOWN_REPORT_SECONDS``, unless its
connection is in error (its owner's to fix; still listed). No secret is in the report.

200 when every part is healthy; 503 with ``failing`` naming each part that is not.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.heartbeat import heartbeat_get
from config.redis import redis_client
from trading.stream_state import streams_health


def _timed(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # the point of a health check is to report, not to raise
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def health_report() -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {
        "database": _timed(connection.ensure_connection),
        "redis": _timed(redis_client().ping),
    }
    for component in settings.HEALTH_REQUIRED_HEARTBEATS:
        if not checks["redis"]["ok"]:
            checks[component] = {"ok": False, "error": "unknown: Redis is unreachable"}
            continue
        beat = heartbeat_get(component=component)
        if beat is None:
            checks[component] = {
                "ok": False,
                "error": f"no heartbeat: is the {component} process running?",
            }
            continue
        age = round(beat.age_seconds, 1)
        ok = age <= settings.HEARTBEAT_MAX_AGE_SECONDS
        checks[component] = {"ok": ok, "age_seconds": age, "host": beat.host, "pid": beat.pid}
        if not ok:
            checks[component]["error"] = (
                f"last heartbeat {age} s ago (limit {settings.HEARTBEAT_MAX_AGE_SECONDS} s)"
            )
    if "streams" in settings.HEALTH_REQUIRED_HEARTBEATS:
        checks["broker_streams"] = _broker_streams(redis_ok=checks["redis"]["ok"])
    failing = [name for name, result in checks.items() if not result["ok"]]
    return {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}


def _broker_streams(*, redis_ok: bool) -> dict[str, Any]:
    if not redis_ok:
        return {"ok": False, "error": "unknown: Redis is unreachable"}
    try:
        return streams_health()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=503 if report["failing"] else 200)
