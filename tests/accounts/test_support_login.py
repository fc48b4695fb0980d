"""The seeded support login (seed_demo) is staff in the "support" group, not a superuser: it
does the support desk's work in the admin (tests/billing/test_admin*.py run as this login)
and nothing beyond it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.management.commands.seed_demo import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    support_login_ensure,
)
from accounts.models import BrokerConnection, User
from tests.billing.whop_fixtures import ensure_billing_seed
from tests.factories import BrokerConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support() -> Client:
    ensure_billing_seed()
    support_login_ensure()
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    return client


def test_the_support_login_is_staff_in_the_support_group_and_not_a_superuser() -> None:
    ensure_billing_seed()
    desk = support_login_ensure()
    support_login_ensure()  # seeding again changes nothing
    desk.refresh_from_db()
    assert desk.email == ADMIN_EMAIL
    assert desk.is_staff and desk.is_active and not desk.is_superuser
    assert [g.name for g in desk.groups.all()] == ["support"]
    assert desk.user_permissions.count() == 0
    assert desk.has_perm("accounts.unlock_login") and desk.has_perm("billing.resend_activation")


def test_support_reads_users_and_connections(support: Client) -> None:
    connection = BrokerConnectionFactory.create(label="Apex 9")
    owner = connection.user
    assert support.get("/admin/").status_code == 200
    assert owner.email in support.get("/admin/accounts/user/").content.decode()
    assert "Apex 9" in support.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    detail = support.get(f"/admin/accounts/brokerconnection/{connection.pk}/change/")
    assert detail.status_code == 200


def test_support_cannot_touch_passwords_permissions_groups_or_delete_connections(
    support: Client,
) -> None:
    connection = BrokerConnectionFactory.create()
    owner: User = connection.user
    before = owner.password
    # No password change for someone else.
    form = support.get(f"/admin/accounts/user/{owner.pk}/password/")
    assert form.status_code == 403
    refused = support.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"password1": "Taken-over-2026!", "password2": "Taken-over-2026!"},
    )
    assert refused.status_code == 403
    # No edits of a user: making one a superuser, or staff, is refused.
    edit = support.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {"email": owner.email, "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )
    assert edit.status_code == 403
    owner.refresh_from_db()
    assert owner.password == before and not owner.is_staff and not owner.is_superuser
    # Groups and their permissions are not support's to change (or see).
    assert support.get("/admin/auth/group/").status_code == 403
    assert support.get("/admin/auth/group/add/").status_code == 403
    # No deleting connections, users, or failed log-in records.
    delete = f"/admin/accounts/brokerconnection/{connection.pk}/delete/"
    assert support.get(delete).status_code == 403
    assert support.post(delete, {"post": "yes"}).status_code == 403
    support.post(
        "/admin/accounts/brokerconnection/",
        {"action": "delete_selected", "_selected_action": [connection.pk], "post": "yes"},
    )
    assert BrokerConnection.objects.filter(pk=connection.pk).exists()
    assert support.get(f"/admin/accounts/user/{owner.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=owner.pk).exists()
    # Adding users (a staff account for oneself) is refused too.
    assert support.get("/admin/accounts/user/add/").status_code == 403


def test_a_staff_login_outside_the_group_sees_nothing() -> None:
    stranger = Client()
    stranger.force_login(UserFactory.create(is_staff=True))
    assert stranger.get("/admin/accounts/user/").status_code == 403
