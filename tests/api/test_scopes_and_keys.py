"""Keys: a read key only reads (every write route and action, from the router, is a 403 with
the error body); a revoked, expired or unknown key is a 401 saying which; use is recorded at
most once a minute; the secret is stored only as a digest and never logged."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey
from api.services import api_key_authenticate, api_key_revoke
from tests.api.conftest import bearer
from tests.api.routes import WRITE_METHODS, api_routes
from tests.factories import UserFactory
from tests.urlmap import API_URL_OBJECTS

pytestmark = pytest.mark.django_db

WRITES = [(r, m) for r in api_routes() for m in r.methods if m in WRITE_METHODS]


def test_every_write_route_is_known_to_the_walk() -> None:
    assert len(WRITES) >= 15


@pytest.mark.parametrize(("route", "method"), WRITES, ids=lambda x: getattr(x, "name", x))
def test_a_read_key_cannot_write_or_act(route: Any, method: str, make_key: Any) -> None:
    user = UserFactory.create()
    kwargs = API_URL_OBJECTS[route.name](user) if route.takes_pk else {}
    _, secret = make_key(user, "read")
    response = getattr(bearer(secret), method)(
        reverse(route.name, kwargs=kwargs), data={"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "read_only_key"
    assert "read scope" in error["message"]
    assert error["fields"] == {}


def test_a_trade_key_writes(make_key: Any) -> None:
    user = UserFactory.create()
    _, secret = make_key(user, "trade")
    response = bearer(secret).post(
        reverse("strategy-list"),
        data={"name": "API strategy", "entry_size": 2, "time_windows": [["09:30", "11:00"]]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["entry_size"] == 2 and body["time_windows"] == [["09:30", "11:00"]]
    assert body["webhook_url"].endswith("/")


def test_the_forms_rules_apply_to_the_api_with_their_words(make_key: Any) -> None:
    user = UserFactory.create()
    _, secret = make_key(user, "trade")
    response = bearer(secret).post(
        reverse("strategy-list"),
        data={"name": "Sized by alert", "alert_may_set_quantity": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "required" in error["fields"]["alert_quantity_max"][0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"revoked_at": timezone.now()}, "revoked"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired"),
    ],
)
def test_a_revoked_or_expired_key_is_401_saying_so(
    change: dict[str, Any], words: str, make_key: Any
) -> None:
    key, secret = make_key(UserFactory.create(), "read")
    ApiKey.objects.filter(pk=key.pk).update(**change)
    response = bearer(secret).get(reverse("strategy-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["code"] == "authentication_failed"
    assert words in error["message"]


def test_an_unknown_or_tampered_key_is_401(make_key: Any) -> None:
    _, secret = make_key(UserFactory.create(), "read")
    for bad in (secret[:-2] + "xx", "bk_00000000_nothing", "not-a-key"):
        response = bearer(bad).get(reverse("strategy-list"))
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Invalid API key."
    assert Client().get(reverse("strategy-list")).status_code == 401


def test_revoking_stops_the_key_at_once(make_key: Any) -> None:
    key, secret = make_key(UserFactory.create(), "read")
    assert bearer(secret).get(reverse("strategy-list")).status_code == 200
    api_key_revoke(api_key=key)
    assert bearer(secret).get(reverse("strategy-list")).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(make_key: Any) -> None:
    key, secret = make_key(UserFactory.create(), "read")
    start = timezone.now()
    api_key_authenticate(secret=secret, now=start)
    api_key_authenticate(secret=secret, now=start + timedelta(seconds=59))
    key.refresh_from_db()
    assert key.last_used_at == start
    api_key_authenticate(secret=secret, now=start + timedelta(seconds=61))
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def test_only_a_digest_is_stored_and_the_secret_is_never_logged(
    make_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, secret = make_key(UserFactory.create(), "trade")
    bearer(secret).get(reverse("strategy-list"))
    bearer(secret + "x").get(reverse("strategy-list"))
    key.refresh_from_db()
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(key.prefix + "_")
    stored = " ".join(str(v) for v in ApiKey.objects.values_list().get(pk=key.pk))
    assert secret not in stored
    assert all(secret.split("_", 2)[2] not in r.getMessage() for r in caplog.records)


def test_keys_need_a_plan_with_api_access(user: Any) -> None:
    from api.services import api_key_create
    from billing.limits import PlanLimitError

    with pytest.raises(PlanLimitError):
        api_key_create(user=user, name="x", scope="read")


def test_an_answer_to_a_key_is_not_stored_by_any_cache(make_key: Any) -> None:
    """Account data over a key (no session): Cache-Control no-store, as on the pages."""
    user = UserFactory.create()
    _, secret = make_key(user, "read")
    response = bearer(secret).get("/api/strategies/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
