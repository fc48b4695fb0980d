"""D30 — the position monitor was never started, and nothing said so.

Invariant: every long-running process has its own entry point, and /healthz reports each
one's heartbeat: with the real worker and beat running it is 200; stop the worker and it is
503 naming the worker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from config.heartbeat import heartbeat_clear
from tests.processes import beat_cmd, running, stop, wait_for, worker_cmd

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_process_has_its_own_entry_in_the_procfile() -> None:
    entries = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert re.search(r"uvicorn config\.asgi:application", entries["web"])
    assert re.search(r"celery -A config worker", entries["worker"])
    assert re.search(r"celery -A config beat", entries["beat"])


@pytest.mark.worker
def test_health_follows_the_real_worker_and_beat_processes() -> None:
    for component in ("worker", "beat"):
        heartbeat_clear(component=component)
    client = Client()
    assert set(client.get("/healthz").json()["failing"]) == {"worker", "beat"}

    with running(beat_cmd(), log_name="beat"), running(worker_cmd(), log_name="worker") as worker:
        wait_for(lambda: client.get("/healthz").status_code == 200, timeout=45, what="healthz 200")
        body = client.get("/healthz").json()
        assert body["checks"]["worker"]["pid"] != body["checks"]["beat"]["pid"]

        stop(worker)  # a clean stop removes the worker's heartbeat at once
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["worker"]
