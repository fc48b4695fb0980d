"""The user's settings page: time zone (IANA names only), password change, e-mail change."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/settings/"


def test_the_settings_page_is_linked_from_the_navigation(owner_client: Client) -> None:
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("accounts:settings")}"' in page
    assert reverse("accounts:settings") == URL


def test_a_time_zone_is_saved_and_a_made_up_one_is_refused_in_words(
    user: User, owner_client: Client
) -> None:
    response = owner_client.post(URL, {"form": "time_zone", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"
    bad = owner_client.post(URL, {"form": "time_zone", "time_zone": "Mars/Olympus_Mons"})
    assert bad.status_code == 400
    assert "“Mars/Olympus_Mons” is not a time zone name" in bad.content.decode()
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"


def test_the_password_changes_with_the_old_one_and_the_session_survives(
    user: User, owner_client: Client
) -> None:
    new = "a-much-longer-passphrase-7"
    wrong = owner_client.post(
        URL,
        {
            "form": "password",
            "old_password": "not-it",
            "new_password1": new,
            "new_password2": new,
        },
    )
    assert wrong.status_code == 400
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    response = owner_client.post(
        URL,
        {
            "form": "password",
            "old_password": TEST_PASSWORD,
            "new_password1": new,
            "new_password2": new,
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert owner_client.get(URL).status_code == 200  # still logged in after the change


def test_the_email_changes_validated_unique_and_lower_case(
    user: User, owner_client: Client
) -> None:
    taken = UserFactory.create(email="taken@example.com")
    cases = [
        ({"email": "TAKEN@example.com", "current_password": TEST_PASSWORD}, "already uses"),
        ({"email": "not-an-address", "current_password": TEST_PASSWORD}, "not an e-mail"),
        ({"email": "new@example.com", "current_password": "wrong"}, "not your current password"),
        ({"email": user.email.upper(), "current_password": TEST_PASSWORD}, "already your"),
    ]
    for data, words in cases:
        response = owner_client.post(URL, {"form": "email", **data})
        assert response.status_code == 400, data
        assert words in response.content.decode(), data
        user.refresh_from_db()
        assert user.email != "new@example.com"
    response = owner_client.post(
        URL, {"form": "email", "email": "New.Address@Example.COM", "current_password": "x"}
    )
    assert response.status_code == 400
    response = owner_client.post(
        URL,
        {"form": "email", "email": "New.Address@Example.COM", "current_password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "new.address@example.com"
    taken.refresh_from_db()
    assert taken.email == "taken@example.com"
    # The new address logs in.
    log_in = Client().post(
        reverse("accounts:login"),
        {"username": "new.address@example.com", "password": TEST_PASSWORD},
    )
    assert log_in.status_code == 302


def test_a_post_without_a_form_name_is_a_400_in_words(owner_client: Client) -> None:
    response = owner_client.post(URL, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert "Say which settings to save" in response.content.decode()
