"""/healthz lists each broker login's user stream with its state, written by the real
``run_streams`` holding it; a login whose stream is down too long is reported (and fails the
check unless its connection is the owner's to fix); nothing secret is in the report."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
from django.test import Client

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection
from config.heartbeat import heartbeat_beat
from config.redis import redis_client, redis_key
from tests.processes import running, streams_cmd, wait_for
from trading.models import TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture(autouse=True)
def _fresh_heartbeats_and_states() -> None:
    client = redis_client()
    client.delete(redis_key("heartbeat", "streams"))
    for key in client.scan_iter(match=redis_key("stream-state", "*")):
        client.delete(key)


def _health() -> Any:
    for component in ("worker", "beat"):  # not under test here
        heartbeat_beat(component=component)
    response = Client().get("/healthz")
    return response


def _login_check(body: Any) -> Any:
    logins = body["checks"]["broker_streams"]["logins"]
    assert len(logins) == 1, logins
    return logins[0]


def test_healthz_shows_the_stream_of_each_login_and_reports_one_down_too_long(
    trader_account: TraderAccount, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = trader_account.subaccount.connection
    settings.STREAM_LEASE_SECONDS = 1.5
    settings.STREAM_DOWN_REPORT_SECONDS = 2
    monkeypatch.setenv("SIMULATOR_URL", settings.SIMULATOR_URL)
    monkeypatch.setenv("STREAM_LEASE_SECONDS", "1.5")
    body = _health().json()
    assert _login_check(body)["up"] is False  # nothing streams it yet: said at once
    assert "no streams process" in body["checks"]["broker_streams"]["error"]

    with running(
        streams_cmd(refresh_seconds=0.5, heartbeat_seconds=0.5), log_name="streams-health-logins"
    ) as streams:
        wait_for(lambda: _health().status_code == 200, timeout=30, what="healthz 200")
        response = _health()
        entry = _login_check(response.json())
        assert entry["up"] is True and entry["connected"] is True
        assert entry["connections"] == [connection.pk]
        assert entry["synced_at"] is not None and entry["last_error"] == ""
        assert f":{streams.pid}:" in entry["holder"]
        connection.refresh_from_db()
        text = response.content.decode()
        assert decrypt_str(connection.access_token_encrypted) not in text
        assert "demo-password" not in text

        os.killpg(streams.pid, signal.SIGKILL)  # its state is never updated again
        streams.wait(timeout=10)
        wait_for(
            lambda: "broker_streams" in _health().json()["failing"],
            timeout=20,
            what="healthz to report the login's stream down",
        )
    body = _health().json()
    entry = _login_check(body)
    assert entry["up"] is False and entry["reported"] is True
    assert "stopped reporting" in entry["why"]
    assert entry["down_seconds"] > 2
    assert f"connection {connection.pk}:" in body["checks"]["broker_streams"]["error"]


def test_a_login_whose_connection_is_in_error_is_listed_but_does_not_fail_health(
    trader_account: TraderAccount,
) -> None:
    connection = trader_account.subaccount.connection
    BrokerConnection.objects.filter(pk=connection.pk).update(
        status=BrokerConnection.Status.ERROR,
        last_error="Incorrect username or password",
        access_token_encrypted="",
        token_expires_at=None,
    )
    check = _health().json()["checks"]["broker_streams"]
    assert check["ok"] is True
    entry = check["logins"][0]
    assert entry["up"] is False and entry["reported"] is True
    assert "Incorrect username or password" in entry["why"]


def test_the_admin_health_panel_lists_each_login_stream(
    trader_account: TraderAccount, admin_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    panel = admin_client.get("/admin/billing/whopevent/health/").content.decode()
    assert 'id="broker-streams"' in panel
    assert f"/admin/accounts/brokerconnection/{connection.pk}/change/" in panel
    assert "no streams process has opened it yet" in panel
