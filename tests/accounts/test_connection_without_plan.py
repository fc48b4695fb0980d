"""A connection tested by a user without a plan: the login works, so it says "Connected" (the
plan only stops its accounts being added), never "Not tested yet"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BrokerConnection
from tests.factories import UserFactory
from trading.brokers.services import broker_connection_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_valid_login_without_a_plan_is_connected_and_says_why_no_accounts(
    sim_settings: Any,
) -> None:
    user = UserFactory.create()  # no membership, no plan
    connection = broker_connection_create(
        user=user,
        label="Paper",
        broker=BrokerConnection.Broker.SIMULATOR,
        username="demo",
        password="demo-password",
    )
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:connection_test", args=[connection.pk]), follow=True)
    connection.refresh_from_db()
    assert connection.status == BrokerConnection.Status.CONNECTED
    assert connection.subaccounts.count() == 0  # the plan decides that
    page = response.content.decode()
    assert "Connected, but the accounts were not added" in page
    assert "Not tested yet" not in page
