from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_an_active_user_and_logs_them_in() -> None:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {"email": "New.Trader@Example.com", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get()
    assert user.email == "new.trader@example.com"
    assert client.get(reverse("dashboard")).status_code == 200


def test_signup_with_a_taken_email_in_another_case_says_so() -> None:
    UserFactory.create(email="taken@example.com")
    response = Client().post(
        reverse("accounts:signup"),
        {"email": "TAKEN@example.com", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD},
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
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
