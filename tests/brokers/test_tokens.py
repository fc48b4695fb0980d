"""Tokens: renewal before expiry, and a token replaced only by a validated new one (D26 has
its own file; these cover the service around it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection
from trading.brokers.services import (
    broker_token_ensure,
    broker_token_renew,
    broker_tokens_renew_due,
)

pytestmark = pytest.mark.django_db


def test_renewal_replaces_the_token_when_under_the_window(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    old = broker_token_ensure(connection=sim_connection)
    BrokerConnection.objects.filter(pk=sim_connection.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=10)
    )
    sim_connection.refresh_from_db()
    assert broker_token_renew(connection=sim_connection) is True
    sim_connection.refresh_from_db()
    assert decrypt_str(sim_connection.access_token_encrypted) != old
    assert sim_connection.token_expires_at is not None
    assert sim_connection.token_expires_at > timezone.now() + timedelta(minutes=30)
    counters = sim.control.counters()["requests"]
    assert counters["auth/renewaccesstoken"] == 1 and counters["auth/accesstokenrequest"] == 1


def test_no_renewal_while_plenty_of_time_remains(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker_token_ensure(connection=sim_connection)
    assert broker_token_renew(connection=sim_connection) is False
    assert "auth/renewaccesstoken" not in sim.control.counters()["requests"]


def test_the_beat_task_renews_only_connections_due(
    sim_connection: BrokerConnection, user: Any
) -> None:
    broker_token_ensure(connection=sim_connection)
    BrokerConnection.objects.filter(pk=sim_connection.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert broker_tokens_renew_due() == 1
    assert broker_tokens_renew_due() == 0


def test_an_expired_token_is_replaced_by_a_new_login(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker_token_ensure(connection=sim_connection)
    BrokerConnection.objects.filter(pk=sim_connection.pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    sim_connection.refresh_from_db()
    assert broker_token_renew(connection=sim_connection) is True
    assert sim.control.counters()["requests"]["auth/accesstokenrequest"] == 2


@pytest.mark.django_db(transaction=True)
def test_many_threads_needing_a_token_at_once_make_one_request(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db_connection

    def ensure(_: int) -> str:
        try:
            return broker_token_ensure(
                connection=BrokerConnection.objects.get(pk=sim_connection.pk)
            )
        finally:
            db_connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        tokens = set(pool.map(ensure, range(24)))
    assert len(tokens) == 1
    assert sim.control.counters()["requests"]["auth/accesstokenrequest"] == 1
