from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.billing.whop_fixtures import send_queued_emails
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


SIGNED_UP = "Check your inbox: we sent a message to {}. Follow its link within 72 hours"


def _link(message: Any) -> str:
    match = re.search(r"http://\S+", message.body)
    assert match is not None, message.body
    return match.group(0).removeprefix("http://localhost:8000")


def _sign_up(client: Client, email: str) -> Any:
    return client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": TEST_PASSWORD, "password2": TEST_PASSWORD},
    )


def test_signup_creates_an_inactive_account_confirmed_by_the_emailed_link() -> None:
    client = Client()
    response = _sign_up(client, "New.Trader@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert (
        SIGNED_UP.format("new.trader@example.com")
        in client.get(response["Location"]).content.decode()
    )
    user = User.objects.get()
    assert user.email == "new.trader@example.com" and not user.is_active
    # Not confirmed yet: the password does not log in (said like any wrong password).
    refused = client.post(
        reverse("accounts:login"), {"username": user.email, "password": TEST_PASSWORD}
    )
    assert "do not match an account" in refused.content.decode()

    assert send_queued_emails() == 1
    (message,) = mail.outbox
    assert message.to == ["new.trader@example.com"]
    assert message.subject == "Confirm your e-mail to finish signing up to Bracketeer"
    link = _link(message)
    assert client.get(link).status_code == 200  # a GET changes nothing (mail scanners)
    assert not User.objects.get().is_active
    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("dashboard")
    assert User.objects.get().is_active
    assert client.get(reverse("dashboard")).status_code == 200
    again = Client().post(link)
    assert again.status_code == 400 and "already been used" in again.content.decode()


def _page_without_csrf(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_signup_with_a_taken_email_answers_exactly_like_a_new_one_and_tells_the_owner() -> None:
    # The same address twice: first new, then (confirmed, used) an existing account.
    first_client = Client()
    first = _sign_up(first_client, "taken@example.com")
    first_page = first_client.get(first["Location"])
    owner = User.objects.get()
    send_queued_emails()
    first_client.post(_link(mail.outbox[0]))
    first_client.post(reverse("accounts:logout"))
    owner.refresh_from_db()
    assert owner.is_active and owner.last_login is not None
    mail.outbox.clear()

    second_client = Client()
    second = second_client.post(
        reverse("accounts:signup"),
        {
            "email": "TAKEN@example.com",
            "password1": "another-pass-4242",
            "password2": "another-pass-4242",
        },
    )
    second_page = second_client.get(second["Location"])
    assert (second.status_code, second["Location"], second.content) == (
        first.status_code,
        first["Location"],
        first.content,
    )
    assert sorted(second.cookies) == sorted(first.cookies)
    assert second_page.status_code == first_page.status_code == 200
    assert _page_without_csrf(second_page) == _page_without_csrf(first_page)
    assert "already" not in _page_without_csrf(second_page)

    # Nothing changed on the account; its owner hears about it, with the ways in.
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.check_password(TEST_PASSWORD) and owner.is_active
    assert send_queued_emails() == 1
    (note,) = mail.outbox
    assert note.to == ["taken@example.com"]
    assert note.subject == "Someone tried to sign up to Bracketeer with your address"
    assert "You already have an account" in note.body
    assert "http://localhost:8000/accounts/login/" in note.body
    assert "http://localhost:8000/accounts/password-reset/" in note.body
    assert "/signup/confirm/" not in note.body


def test_signing_up_again_before_confirming_sends_the_link_again() -> None:
    _sign_up(Client(), "slow@example.com")
    _sign_up(Client(), "slow@example.com")
    assert send_queued_emails() == 2
    assert [m.subject for m in mail.outbox] == [
        "Confirm your e-mail to finish signing up to Bracketeer"
    ] * 2
    assert User.objects.count() == 1


def test_signup_rejects_a_weak_password_with_the_reason() -> None:
    response = Client().post(
        reverse("accounts:signup"),
        {"email": "weak@example.com", "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 400
    assert "too common" in response.content.decode()
    assert not User.objects.exists()


def test_login_is_by_email_in_any_case_and_logout_needs_post() -> None:
    UserFactory.create(email="case@example.com")
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": "CASE@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_wrong_password_says_what_went_wrong() -> None:
    UserFactory.create(email="who@example.com")
    response = Client().post(
        reverse("accounts:login"), {"username": "who@example.com", "password": "nope-nope-nope"}
    )
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
