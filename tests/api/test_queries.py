"""Lists cost the same number of queries for 2 rows as for 8 (no query per row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.conftest import bearer
from tests.factories import UserFactory
from tests.urlmap import API_URL_OBJECTS

pytestmark = pytest.mark.django_db

LISTS = sorted(n.removesuffix("-detail") for n in API_URL_OBJECTS if n.endswith("-detail"))


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("kind", LISTS)
def test_a_list_costs_no_query_per_row(kind: str, make_key: Any) -> None:
    user = UserFactory.create()
    make: Callable[[Any], dict[str, Any]] = API_URL_OBJECTS[f"{kind}-detail"]
    _, secret = make_key(user, "read")
    client = bearer(secret)
    url = reverse(f"{kind}-list")
    client.get(url)  # the key's first use is recorded once (last_used_at): not a row's cost
    for _ in range(2):
        make(user)
    few = _queries(client, url)
    for _ in range(6):
        make(user)
    assert client.get(url).json()["count"] >= 8
    assert _queries(client, url) == few, f"{url}: queries grow with the rows"
