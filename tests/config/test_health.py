"""/healthz names each failing part, with heartbeat ages (D30)."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from config.heartbeat import heartbeat_beat, heartbeat_get
from config.redis import redis_client, redis_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeats() -> None:
    for component in ("worker", "beat", "streams"):
        redis_client().delete(redis_key("heartbeat", component))  # every instance's
        assert heartbeat_get(component=component) is None


def test_no_worker_heartbeat_is_503_naming_the_worker() -> None:
    heartbeat_beat(component="beat")
    heartbeat_beat(component="streams")
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert "worker process running" in body["checks"]["worker"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True


def test_fresh_heartbeats_are_200_with_their_ages() -> None:
    for component in ("worker", "beat", "streams"):
        heartbeat_beat(component=component)
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["failing"] == []
    assert 0 <= body["checks"]["worker"]["age_seconds"] < 5
    assert 0 <= body["checks"]["streams"]["age_seconds"] < 5


def test_no_streams_heartbeat_is_503_naming_the_position_monitor() -> None:
    heartbeat_beat(component="worker")
    heartbeat_beat(component="beat")
    body = Client().get("/healthz").json()
    assert body["failing"] == ["streams"]
    assert "streams process running" in body["checks"]["streams"]["error"]


def test_a_stale_heartbeat_fails_with_its_age(settings) -> None:
    for component in ("worker", "beat", "streams"):
        heartbeat_beat(component=component)
    settings.HEARTBEAT_MAX_AGE_SECONDS = 1
    time.sleep(1.2)  # older than the limit, younger than the 2x limit at which it is pruned
    body = Client().get("/healthz").json()
    assert set(body["failing"]) == {"worker", "beat", "streams"}
    assert "last heartbeat" in body["checks"]["worker"]["error"]


def test_unreachable_redis_is_named(settings) -> None:
    from config import redis as redis_module

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        response = Client().get("/healthz")
    finally:
        redis_module._client.cache_clear()
    assert response.status_code == 503
    body = response.json()
    assert "redis" in body["failing"] and "worker" in body["failing"]
    assert "ConnectionError" in body["checks"]["redis"]["error"]
