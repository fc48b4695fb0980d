"""D03 — an enabled account had no credentials: 40% of trades failed with no clear reason.

Invariant: a trading account always resolves to one connection and its credentials; a
missing or expired credential gives an error naming the connection, recorded where the owner
sees it. (The per-TraderAccount half lands with the signal executor.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BrokerConnection
from trading.brokers.base import BrokerAuthError
from trading.brokers.services import ConnectionNotReady, broker_connection_test, broker_for

pytestmark = pytest.mark.django_db


def test_a_connection_without_a_login_names_itself(sim_settings: Any, user: Any) -> None:
    connection = BrokerConnection.objects.create(user=user, label="Topstep 3", broker="simulator")
    with pytest.raises(ConnectionNotReady) as error:
        broker_for(connection=connection)
    assert "Connection 'Topstep 3' has no saved login" in str(error.value)


def test_testing_it_records_the_reason_for_the_owner(
    sim_settings: Any, user: Any, owner_client: Client
) -> None:
    connection = BrokerConnection.objects.create(user=user, label="Topstep 3", broker="simulator")
    with pytest.raises(ConnectionNotReady):
        broker_connection_test(connection=connection)
    connection.refresh_from_db()
    assert connection.status == BrokerConnection.Status.ERROR
    assert "has no saved login" in connection.last_error
    page = owner_client.get(reverse("accounts:connection_detail", kwargs={"pk": connection.pk}))
    assert "has no saved login" in page.content.decode()


def test_wrong_credentials_show_the_brokers_words(sim_settings: Any, user: Any) -> None:
    from trading.brokers.services import broker_connection_create

    connection = broker_connection_create(
        user=user, label="Typo", broker="simulator", username="demo", password="wrong"
    )
    with pytest.raises(BrokerAuthError):
        broker_connection_test(connection=connection)
    connection.refresh_from_db()
    assert "Incorrect username or password" in connection.last_error
