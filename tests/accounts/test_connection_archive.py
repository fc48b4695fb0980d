"""Deleting a broker connection never deletes history (issue 9, item 4).

It used to cascade: every outcome and order of its accounts went with it, and the signal page
said "No outcome on your accounts" about a signal that had traded. Deleting is now archiving:
the login's secrets go, its accounts stop trading, the rows stay. And a connection cannot be
deleted while the broker has positions or working orders on it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BrokerConnection, Subaccount
from trading.execution import signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _buy(strategy: Strategy, sim: Any) -> Signal:
    sim.control.set_price("MNQZ6", "18000.00")
    received = signal_receive(
        strategy=strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026", "id": time.time_ns()}).encode(),
    )
    assert received.status == "accepted", received.reason
    return signal_execute(signal_id=received.signal.pk)


def _stopped_out(strategy: Strategy, sim: Any) -> Signal:
    """A signal that traded and is over: entry filled, stop filled, nothing left working."""
    signal = _buy(strategy, sim)
    sim.control.set_price("MNQZ6", "17990.00")
    deadline = time.monotonic() + 5
    while [o for o in sim.control.state()["orders"] if o["ordStatus"] == "Working"]:
        assert time.monotonic() < deadline, "the simulator did not fill the stop"
        time.sleep(0.05)
    return signal


def _delete_url(connection: BrokerConnection) -> str:
    return reverse("accounts:connection_delete", args=[connection.pk])


def test_deleting_a_connection_keeps_past_outcomes_and_orders_with_the_account(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    signal = _stopped_out(strategy, sim)
    orders_before = Order.objects.filter(signal=signal).count()
    assert orders_before == 3

    page = owner_client.get(_delete_url(connection))
    assert page.status_code == 200
    assert "Delete connection" in page.content.decode()
    response = owner_client.post(_delete_url(connection))
    assert response.status_code == 302, response.content.decode()[-2000:]

    outcome = SignalOutcome.objects.get(signal=signal)
    assert outcome.subaccount.name == "DEMO1001"
    assert outcome.subaccount.broker_account_id == 1001
    assert Order.objects.filter(signal=signal).count() == orders_before
    # Read from the broker one last time before the login was wiped: not "Working" for good.
    states = dict(Order.objects.filter(signal=signal).values_list("role", "state"))
    assert states == {"entry": "filled", "take_profit": "cancelled", "stop": "filled"}
    detail = owner_client.get(reverse("trading:signal_detail", args=[signal.pk])).content.decode()
    assert "No outcome on your accounts" not in detail
    assert "DEMO1001" in detail and "account 1001 on Paper (connection deleted)" in detail
    assert "No order was placed" not in detail
    assert "Could not read the broker" not in detail


def test_a_deleted_connection_keeps_no_secret_stops_trading_and_is_hidden(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    _stopped_out(strategy, sim)
    assert owner_client.post(_delete_url(connection)).status_code == 302

    connection.refresh_from_db()
    assert connection.archived_at is not None
    assert connection.credentials_encrypted == ""
    assert connection.access_token_encrypted == connection.md_access_token_encrypted == ""
    assert connection.token_expires_at is None
    assert not Subaccount.objects.filter(connection=connection, active=True).exists()
    listed = owner_client.get(reverse("accounts:connection_list")).content.decode()
    assert "No broker connection yet" in listed
    assert (
        owner_client.get(reverse("accounts:connection_detail", args=[connection.pk])).status_code
        == 404
    )
    assert owner_client.get(_delete_url(connection)).status_code == 404
    api = owner_client.get(reverse("connection-list")).json()
    assert (api["results"] if isinstance(api, dict) else api) == []

    # A new alert no longer trades on the deleted connection's account.
    sim.control.reset()
    later = _buy(strategy, sim)
    assert not SignalOutcome.objects.filter(
        signal=later, subaccount__connection=connection
    ).exists()
    assert sim.control.state()["orders"] == []


def test_the_same_login_can_be_added_again_after_deleting(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    assert owner_client.post(_delete_url(connection)).status_code == 302
    response = owner_client.post(
        reverse("accounts:connection_create"),
        {"label": "Paper", "broker": "simulator", "username": "demo", "password": "demo-password"},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    again = BrokerConnection.objects.get(label="Paper", archived_at__isnull=True)
    assert again.pk != connection.pk
    assert (
        owner_client.post(reverse("accounts:connection_test", args=[again.pk])).status_code == 302
    )
    assert sorted(again.subaccounts.filter(active=True).values_list("name", flat=True)) == [
        "DEMO1001",
        "DEMO1002",
    ]


def test_a_connection_with_an_open_position_cannot_be_deleted_and_the_page_lists_it(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    _buy(strategy, sim)  # long 1 MNQ with its take-profit and stop working
    page = owner_client.get(_delete_url(connection)).content.decode()
    assert "It cannot be deleted yet" in page
    assert "DEMO1001" in page and "MNQZ6" in page and "long 1" in page
    assert page.count("<tr><td>") >= 3  # the position and the two working exits
    assert "Delete connection</button>" not in page

    response = owner_client.post(_delete_url(connection))
    assert response.status_code == 409
    assert "was not deleted: positions or working orders are open on DEMO1001" in (
        response.content.decode()
    )
    connection.refresh_from_db()
    assert connection.archived_at is None and connection.has_credentials


def test_a_broker_that_cannot_be_read_is_said_and_deleting_needs_the_owners_check(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, owner_client: Client
) -> None:
    connection = trader_account.subaccount.connection
    sim.control.faults(http_5xx={"count": 100, "status": 503, "endpoints": ["position/list"]})
    page = owner_client.get(_delete_url(connection)).content.decode()
    assert "The broker could not be asked what is open on these accounts" in page
    assert "HTTP 503" in page and "Simulated server error" in page

    refused = owner_client.post(_delete_url(connection))
    assert refused.status_code == 409
    assert "the broker could not be asked what is open on DEMO1001" in refused.content.decode()
    connection.refresh_from_db()
    assert connection.archived_at is None

    confirmed = owner_client.post(_delete_url(connection), {"unreadable_confirmed": "on"})
    assert confirmed.status_code == 302
    connection.refresh_from_db()
    assert connection.archived_at is not None
