"""/healthz follows the real ``run_streams`` process: a fresh heartbeat while it runs; killed,
its heartbeat goes stale and /healthz is 503 naming streams; SIGTERM stops it cleanly and
clears the heartbeat at once."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
from django.test import Client

from config.heartbeat import heartbeat_beat
from config.redis import redis_client, redis_key
from tests.processes import running, streams_cmd, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture(autouse=True)
def _no_streams_heartbeats() -> None:
    """Every instance's, not only this process's: a killed monitor's stays behind."""
    redis_client().delete(redis_key("heartbeat", "streams"))


def _health(client: Client) -> Any:
    for component in ("worker", "beat"):  # the other processes are not under test here
        heartbeat_beat(component=component)
    return client.get("/healthz")


def test_healthz_reports_streams_and_a_killed_monitor_makes_it_503(settings: Any) -> None:
    settings.HEARTBEAT_MAX_AGE_SECONDS = 3
    client = Client()
    assert _health(client).json()["failing"] == ["streams"]
    with running(streams_cmd(heartbeat_seconds=0.5), log_name="streams-health") as streams:
        wait_for(lambda: _health(client).status_code == 200, timeout=30, what="healthz 200")
        check = _health(client).json()["checks"]["streams"]
        assert check["ok"] is True and check["pid"] == streams.pid

        os.killpg(streams.pid, signal.SIGKILL)  # no chance to clear its heartbeat
        streams.wait(timeout=10)
        wait_for(lambda: _health(client).status_code == 503, timeout=15, what="healthz 503")
        body = _health(client).json()
        assert body["failing"] == ["streams"]
        assert "heartbeat" in body["checks"]["streams"]["error"]


def test_sigterm_stops_the_monitor_cleanly_and_clears_its_heartbeat() -> None:
    client = Client()
    with running(streams_cmd(heartbeat_seconds=0.5), log_name="streams-sigterm") as streams:
        wait_for(
            lambda: _health(client).json()["checks"]["streams"].get("pid") == streams.pid,
            timeout=30,
            what="this monitor's heartbeat",
        )
        os.killpg(streams.pid, signal.SIGTERM)
        assert streams.wait(timeout=20) == 0
        body = _health(client).json()
        assert body["failing"] == ["streams"]
        assert "no heartbeat" in body["checks"]["streams"]["error"]
