"""Z1 — the bot and the API server were configured with different ports; orders went nowhere.

Invariant: one source of configuration (every component reads the same variables), and
start-up fails loudly, naming the peer, when PostgreSQL or Redis is unreachable.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.processes import run_python


def _preflight(**env: str) -> subprocess.CompletedProcess[str]:
    return run_python("manage.py", "preflight", env=env, timeout=60)


def test_every_redis_user_reads_the_one_redis_url() -> None:
    assert app.conf.broker_url == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    channel_layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    assert [host["address"] for host in channel_layer["CONFIG"]["hosts"]] == [settings.REDIS_URL]


@pytest.mark.django_db
def test_preflight_passes_when_both_peers_answer() -> None:
    test_db = connection.settings_dict["NAME"]  # the test database: exists on any machine
    result = _preflight(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{test_db}")
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout


def test_unreachable_postgresql_is_named_with_what_to_start() -> None:
    result = _preflight(DATABASE_URL="postgres://postgres@127.0.0.1:1/bracketeer")
    assert result.returncode == 1
    assert "PostgreSQL at 127.0.0.1:1 is not answering" in result.stderr
    assert "pg_ctlcluster" in result.stderr


def test_unreachable_redis_is_named_with_what_to_start() -> None:
    result = _preflight(REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "Redis at 127.0.0.1:1 is not answering" in result.stderr
    assert "redis-server" in result.stderr


def test_a_missing_database_is_named_not_blamed_on_the_server() -> None:
    result = _preflight(DATABASE_URL="postgres://postgres@127.0.0.1:5432/bracketeer_no_such_db")
    assert result.returncode == 1
    assert "answers, but database 'bracketeer_no_such_db' does not exist" in result.stderr
    assert "make demo does this for you" in result.stderr
