"""D30 — the position monitor was never started, and nothing said so.

Invariant: every long-running process has its own entry point, and /healthz reports each
one's heartbeat: with the real worker, beat and streams (the position monitor) running it is
200; stop the worker and it is 503 naming the worker; stop the monitor and it names streams.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from config.redis import redis_client, redis_key
from tests.processes import beat_cmd, running, stop, streams_cmd, wait_for, worker_cmd

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_process_has_its_own_entry_in_the_procfile() -> None:
    entries = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert re.search(r"uvicorn config\.asgi:application", entries["web"])
    assert re.search(r"celery -A config worker", entries["worker"])
    assert re.search(r"celery -A config beat", entries["beat"])
    assert re.search(r"manage\.py run_streams", entries["streams"])


@pytest.mark.worker
def test_health_follows_the_real_worker_beat_and_streams_processes() -> None:
    for component in ("worker", "beat", "streams"):
        # Every instance's, not only this process's: a worker another test killed with SIGKILL
        # leaves a heartbeat that stays fresh for a minute.
        redis_client().delete(redis_key("heartbeat", component))
    client = Client()
    assert set(client.get("/healthz").json()["failing"]) == {"worker", "beat", "streams"}

    with (
        running(beat_cmd(), log_name="beat"),
        running(worker_cmd(), log_name="worker") as worker,
        running(streams_cmd(), log_name="streams") as streams,
    ):
        wait_for(lambda: client.get("/healthz").status_code == 200, timeout=45, what="healthz 200")
        body = client.get("/healthz").json()
        pids = {body["checks"][name]["pid"] for name in ("worker", "beat", "streams")}
        assert len(pids) == 3

        stop(worker)  # a clean stop removes the worker's heartbeat at once
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["worker"]

        stop(streams)  # likewise the position monitor's
        assert client.get("/healthz").json()["failing"] == ["worker", "streams"]
