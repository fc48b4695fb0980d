"""Rate limits per key (in the Redis cache): over the budget, 429 with Retry-After and the error
body; each key and each kind (read, write) has its own budget. Errors have one body."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.api.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_read": "3/min", "api_write": "2/min"},
    }


def test_over_the_budget_is_429_with_retry_after(low_rates: None, make_key: Any) -> None:
    user = UserFactory.create()
    _, secret = make_key(user, "trade")
    _, other_secret = make_key(user, "read")
    client = bearer(secret)
    url = reverse("strategy-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "throttled" and error["fields"] == {}
    assert bearer(other_secret).get(url).status_code == 200  # another key: its own budget
    # Writes have their own budget (2/min), untouched by the reads.
    writes = [
        client.post(url, data={"name": f"S{i}"}, content_type="application/json").status_code
        for i in range(3)
    ]
    assert writes == [201, 201, 429]


def test_validation_errors_name_their_fields(make_key: Any) -> None:
    _, secret = make_key(UserFactory.create(), "trade")
    response = bearer(secret).post(
        reverse("strategy-list"),
        data={"name": "", "take_profits": [{"distance": "x", "qty": "1"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "name" in error["fields"]


def test_a_bad_filter_is_a_400_naming_it(make_key: Any) -> None:
    _, secret = make_key(UserFactory.create(), "read")
    response = bearer(secret).get(
        reverse("fill-list"), {"date_from": "2026-12-02", "date_to": "2026-12-01"}
    )
    assert response.status_code == 400
    assert "date_to" in response.json()["error"]["fields"]
    response = bearer(secret).get(reverse("trade-list"), {"date_from": "yesterday"})
    assert response.status_code == 400
    assert "date_from" in response.json()["error"]["fields"]


def test_unknown_ids_and_methods_have_the_error_body(make_key: Any) -> None:
    _, secret = make_key(UserFactory.create(), "trade")
    missing = bearer(secret).get(reverse("strategy-detail", args=[999999]))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = bearer(secret).put(reverse("strategy-detail", args=[999999]), data={})
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
