from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse

from accounts.models import BrokerConnection, Subaccount
from accounts.tenancy import access_by_id, tenant_queryset
from tests.factories import BrokerConnectionFactory, SubaccountFactory

pytestmark = pytest.mark.django_db


def test_access_by_id_gives_the_same_404_for_missing_and_foreign(user, other_user) -> None:
    mine = BrokerConnectionFactory.create(user=user)
    theirs = BrokerConnectionFactory.create(user=other_user)
    assert access_by_id(model=BrokerConnection, user=user, pk=mine.pk) == mine
    with pytest.raises(Http404) as foreign:
        access_by_id(model=BrokerConnection, user=user, pk=theirs.pk)
    with pytest.raises(Http404) as missing:
        access_by_id(model=BrokerConnection, user=user, pk=theirs.pk + 1000)
    assert str(foreign.value) == str(missing.value)
    with pytest.raises(Http404):
        access_by_id(model=BrokerConnection, user=user, pk="not-a-number")


def test_nested_tenant_path_scopes_subaccounts(user, other_user) -> None:
    mine = SubaccountFactory.create(connection__user=user)
    SubaccountFactory.create(connection__user=other_user)
    assert list(tenant_queryset(model=Subaccount, user=user)) == [mine]


def test_api_lists_only_the_users_connections_and_refuses_foreign_writes(
    user, other_user, owner_client: Client
) -> None:
    mine = BrokerConnectionFactory.create(user=user, label="Mine")
    theirs = BrokerConnectionFactory.create(user=other_user, label="Theirs")
    listed = owner_client.get(reverse("connection-list")).json()["results"]
    assert [c["label"] for c in listed] == ["Mine"]
    url = reverse("connection-detail", kwargs={"pk": theirs.pk})
    response = owner_client.patch(url, {"label": "hijacked"}, content_type="application/json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.label == "Theirs"
    ok = owner_client.patch(
        reverse("connection-detail", kwargs={"pk": mine.pk}),
        {"label": "Renamed", "status": "connected"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    mine.refresh_from_db()
    assert (mine.label, mine.status) == ("Renamed", "new")  # status is the broker's, read-only


def test_anonymous_api_access_is_refused() -> None:
    assert Client().get(reverse("connection-list")).status_code == 401


def test_another_tenant_cannot_test_or_delete_a_connection(user, other_client: Client) -> None:
    mine = BrokerConnectionFactory.create(user=user)
    assert (
        other_client.post(reverse("accounts:connection_test", kwargs={"pk": mine.pk})).status_code
        == 404
    )
    assert (
        other_client.post(reverse("accounts:connection_delete", kwargs={"pk": mine.pk})).status_code
        == 404
    )
    assert BrokerConnection.objects.filter(pk=mine.pk).exists()


def test_the_admin_never_shows_a_secret(user) -> None:
    from tests.factories import UserFactory
    from trading.brokers.services import broker_connection_create

    connection = broker_connection_create(
        user=user, label="S", broker="simulator", username="demo", password="visible-if-leaked"
    )
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    for url in (
        reverse("admin:accounts_brokerconnection_changelist"),
        reverse("admin:accounts_brokerconnection_change", args=[connection.pk]),
    ):
        page = client.get(url).content.decode()
        assert "visible-if-leaked" not in page
        assert connection.credentials_encrypted not in page
