"""The API keys page: the secret is shown once, on the answer to the POST; lists never show it;
revoking works for the owner only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_settings_links_to_the_api_keys_page(owner_client: Client) -> None:
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert reverse("api_keys:list") in page


def test_a_new_key_is_shown_once_and_listed_without_its_secret(
    member: Any, owner_client: Client
) -> None:
    response = owner_client.post(
        reverse("api_keys:list"), {"name": "dashboard", "scope": "trade", "expires": "30"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    secret = response.context["secret"]
    page = response.content.decode()
    assert secret in page and "shown only once" in page and 'data-copy="#api-key-secret"' in page
    key = ApiKey.objects.get(user=member)
    assert (key.name, key.scope) == ("dashboard", "trade") and key.expires_at is not None
    again = owner_client.get(reverse("api_keys:list")).content.decode()
    assert secret not in again and key.prefix in again and "dashboard" in again
    used = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(reverse("strategy-list"))
    assert used.status_code == 200


def test_without_api_access_the_page_says_why(user: Any, owner_client: Client) -> None:
    response = owner_client.post(reverse("api_keys:list"), {"name": "x", "scope": "read"})
    assert response.status_code == 400
    assert "membership" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_is_the_owners_only(member: Any, owner_client: Client, other_client: Client) -> None:
    owner_client.post(reverse("api_keys:list"), {"name": "script", "scope": "read"})
    key = ApiKey.objects.get(user=member)
    url = reverse("api_keys:revoke", args=[key.pk])
    assert other_client.post(url).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    assert owner_client.post(url).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "revoked" in owner_client.get(reverse("api_keys:list")).content.decode()
