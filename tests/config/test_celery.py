"""Celery through a real worker process on Redis (never eager mode)."""

from __future__ import annotations

import uuid

import pytest

from config.celery import QUEUES, app, ping
from config.redis import redis_client, redis_key
from tests.processes import running, wait_for, worker_cmd

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_a_task_round_trips_through_a_real_worker() -> None:
    with running(worker_cmd(), log_name="worker"):
        token = uuid.uuid4().hex
        ping.apply_async(args=(token,), queue="default")
        client = redis_client()
        wait_for(lambda: client.get(redis_key("ping", token)) is not None, timeout=30, what="ping")
        assert client.get(redis_key("ping", token)) == token.encode()


def test_configuration_is_json_only_with_bounded_retries_and_late_acks() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit + 300
    assert ping.max_retries <= 5


def test_each_queue_has_its_own_routing_so_a_message_lands_in_exactly_one() -> None:
    """A message routed to one queue must never be copied into the others."""
    client = redis_client()
    prefix = app.conf.broker_transport_options["global_keyprefix"]
    for queue in QUEUES:
        client.delete(f"{prefix}{queue}")
    ping.apply_async(args=("routed",), queue="signals")
    lengths = {q: client.llen(f"{prefix}{q}") for q in QUEUES}
    for queue in QUEUES:
        client.delete(f"{prefix}{queue}")
    assert lengths == {"signals": 1, "copytrade": 0, "default": 0}


def test_a_message_delivered_too_often_is_refused_not_run_again() -> None:
    """The poison-message guard that makes task_reject_on_worker_lost safe."""
    task_id = f"poison-{uuid.uuid4().hex}"
    results = [
        ping.apply(args=("ran",), task_id=task_id).get() for _ in range(ping.max_deliveries + 2)
    ]
    assert results[: ping.max_deliveries] == ["ran"] * ping.max_deliveries
    assert results[ping.max_deliveries :] == [None, None]


def test_worker_heartbeat_appears_when_the_worker_runs() -> None:
    from config.heartbeat import heartbeat_get

    with running(worker_cmd(), log_name="worker-heartbeat"):
        wait_for(
            lambda: heartbeat_get(component="worker") is not None, timeout=30, what="heartbeat"
        )
