"""Log-in throttling (django-axes, accounts/throttling.py): wrong passwords lock the account
and the client address for a while, the right password included; support unlocks."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from tests.billing.whop_fixtures import ensure_billing_seed
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED = "Too many failed log-ins for this account. Try again in 15 minutes or reset your password."
LIMIT = 10


def _client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def _fail(
    client: Client,
    email: str,
    times: int,
    url: str = LOGIN,
    headers: dict[str, str] | None = None,
) -> list[int]:
    """``times`` wrong passwords; the answers' status codes."""
    return [
        client.post(url, {"username": email, "password": f"wrong-{n}"}, headers=headers).status_code
        for n in range(times)
    ]


def _logs_in(client: Client, email: str, url: str = LOGIN) -> bool:
    response = client.post(url, {"username": email, "password": TEST_PASSWORD})
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_ten_failures_lock_the_account_and_the_right_password_is_refused_with_the_reason() -> None:
    victim = UserFactory.create(email="victim@example.com")
    attacker = _client("203.0.113.7")
    # The failure reaching the limit is already answered with the lock.
    assert _fail(attacker, victim.email, LIMIT) == [200] * (LIMIT - 1) + [429]
    response = attacker.post(LOGIN, {"username": victim.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert 'href="/accounts/password-reset/"' in page  # the way out is on the page
    assert "_auth_user_id" not in attacker.session
    # The account is locked from any address (the owner too, until it lifts or they reset).
    assert not _logs_in(_client("198.51.100.20"), victim.email)
    # Another account from another address is not.
    bystander = UserFactory.create(email="bystander@example.com")
    assert _logs_in(_client("198.51.100.30"), bystander.email)


def test_nine_failures_then_the_right_password_logs_in_and_the_count_starts_again() -> None:
    user = UserFactory.create()
    client = _client("203.0.113.8")
    assert _fail(client, user.email, LIMIT - 1) == [200] * (LIMIT - 1)
    assert _logs_in(client, user.email)
    client.post(reverse("accounts:logout"))
    # A success forgot the earlier failures.
    assert _fail(client, user.email, LIMIT - 1) == [200] * (LIMIT - 1)
    assert _logs_in(client, user.email)


def test_the_letter_case_of_the_email_does_not_give_fresh_attempts() -> None:
    user = UserFactory.create(email="mixed@example.com")
    answers = []
    for n in range(LIMIT):
        address = f"203.0.113.{100 + n}"  # and neither do fresh addresses
        email = "MiXeD@Example.com" if n % 2 else " mixed@example.com"
        answers += _fail(_client(address), email, 1)
    assert answers == [200] * (LIMIT - 1) + [429]
    response = _client("198.51.100.1").post(
        LOGIN, {"username": "MIXED@EXAMPLE.COM", "password": TEST_PASSWORD}
    )
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert user.is_active


def test_one_address_guessing_many_accounts_is_locked_whatever_it_forwards() -> None:
    users = [UserFactory.create() for _ in range(LIMIT + 1)]
    sprayer = _client("203.0.113.9")
    answers = []
    for n, user in enumerate(users[:LIMIT]):
        # A forwarded-for header a client writes itself is not its address.
        answers += _fail(sprayer, user.email, 1, headers={"X-Forwarded-For": f"192.0.2.{n}"})
    assert answers == [200] * (LIMIT - 1) + [429]
    response = sprayer.post(LOGIN, {"username": users[LIMIT].email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins from your network" in response.content.decode()
    # The last account itself is not locked: from elsewhere it logs in.
    assert _logs_in(_client("198.51.100.2"), users[LIMIT].email)


def test_the_admin_log_in_is_throttled_too() -> None:
    staff = UserFactory.create(email="staff@example.com", is_staff=True, is_superuser=True)
    client = _client("203.0.113.10")
    assert _fail(client, staff.email, LIMIT, url=ADMIN_LOGIN) == [200] * (LIMIT - 1) + [429]
    response = client.post(ADMIN_LOGIN, {"username": staff.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to log in


def _support_client() -> Client:
    from django.contrib.auth.models import Group

    ensure_billing_seed()
    desk = UserFactory.create(is_staff=True)
    desk.groups.add(Group.objects.get(name="support"))
    client = Client()
    client.force_login(desk)
    return client


def test_support_unlocks_the_log_in_from_the_admin() -> None:
    user = UserFactory.create(email="locked@example.com")
    owner = _client("203.0.113.11")
    _fail(owner, user.email, LIMIT)
    assert not _logs_in(owner, user.email)
    support = _support_client()
    attempts = support.get("/admin/axes/accessattempt/?q=locked%40example.com")
    assert attempts.status_code == 200 and user.email in attempts.content.decode()
    response = support.post(
        "/admin/accounts/user/",
        {"action": "unlock_login", "_selected_action": [user.pk]},
        follow=True,
    )
    assert "Log-in unlocked for locked@example.com." in response.content.decode()
    assert _logs_in(owner, user.email)


def test_a_subscriber_without_the_permission_cannot_unlock() -> None:
    user = UserFactory.create()
    _fail(_client("203.0.113.12"), user.email, LIMIT)
    staff_without_group = UserFactory.create(is_staff=True)
    client = Client()
    client.force_login(staff_without_group)
    client.post("/admin/accounts/user/", {"action": "unlock_login", "_selected_action": [user.pk]})
    assert not _logs_in(_client("198.51.100.3"), user.email)


def test_a_password_reset_lifts_the_lock() -> None:
    user = UserFactory.create()
    _fail(_client("203.0.113.13"), user.email, LIMIT)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    owner = _client("198.51.100.4")
    link = owner.get(f"/accounts/password-reset/{uid}/{default_token_generator.make_token(user)}/")
    assert link.status_code == 302 and re.search(r"/set-password/$", link["Location"])
    new = "a-fresh-password-2026"
    done = owner.post(link["Location"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302, done.content.decode()[:500]
    response = owner.post(LOGIN, {"username": user.email, "password": new})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(new)
