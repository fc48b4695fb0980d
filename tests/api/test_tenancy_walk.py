"""Every API route, walked as another tenant: a foreign id is a 404 on read, write and action
(nothing changes), lists never carry a foreign object, and a foreign id in a payload is refused.
Routes come from the router itself (tests/api/routes.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from tests.api.conftest import bearer
from tests.api.routes import api_routes
from tests.factories import StrategyFactory, SubaccountFactory, TraderFactory, UserFactory
from tests.urlmap import API_URL_OBJECTS

pytestmark = pytest.mark.django_db

ROUTES = api_routes()
BODY: dict[str, Any] = {"name": "stolen", "label": "stolen", "enabled": False}


def test_the_walk_covers_the_whole_api() -> None:
    names = {r.name for r in ROUTES}
    assert {"strategy-list", "trader-close-all", "signal-detail", "follower-detail"} <= names
    missing = sorted(r.name for r in ROUTES if r.takes_pk and r.name not in API_URL_OBJECTS)
    assert missing == [], f"add a factory to tests/urlmap.py API_URL_OBJECTS for {missing}"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.takes_pk], ids=lambda r: r.name)
def test_a_foreign_id_is_404_on_every_method(route: Any, make_key: Any) -> None:
    owner, intruder = UserFactory.create(), UserFactory.create()
    url = reverse(route.name, kwargs=API_URL_OBJECTS[route.name](owner))
    _, secret = make_key(intruder, "trade")
    client = bearer(secret)
    for method in route.methods:
        response = getattr(client, method)(url, data=BODY, content_type="application/json")
        assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
        assert response.json()["error"]["code"] == "not_found"
    _, own_secret = make_key(owner, "read")
    assert bearer(own_secret).get(url).status_code in {200, 405}  # still there, unchanged


def _owned_ids(owner: User) -> dict[str, int]:
    """One object of every kind for ``owner``, by the list route that should show it."""
    return {
        name.removesuffix("-detail") + "-list": make(owner)["pk"]
        for name, make in API_URL_OBJECTS.items()
        if name.endswith("-detail")
    }


def test_lists_never_carry_another_tenants_objects(make_key: Any) -> None:
    owner, intruder = UserFactory.create(), UserFactory.create()
    owned = _owned_ids(owner)
    _owned_ids(intruder)  # the intruder has objects of every kind too
    _, owner_secret = make_key(owner, "read")
    _, intruder_secret = make_key(intruder, "read")
    lists = [r for r in ROUTES if not r.takes_pk and "get" in r.methods]
    assert {r.name for r in lists} == set(owned), "every list has a detail route and a factory"
    leaks = []
    for route in lists:
        url = reverse(route.name)
        mine = bearer(owner_secret).get(url)
        assert mine.status_code == 200, f"{url}: {mine.status_code}"
        assert owned[route.name] in [row["id"] for row in mine.json()["results"]], url
        theirs = bearer(intruder_secret).get(url)
        assert theirs.status_code == 200
        ids = [row["id"] for row in theirs.json()["results"]]
        assert ids, f"{url}: the intruder's own objects are listed"
        if owned[route.name] in ids:
            leaks.append(url)
    assert leaks == []


def test_foreign_ids_in_a_payload_are_refused(make_key: Any) -> None:
    owner, intruder = UserFactory.create(), UserFactory.create()
    strategy = StrategyFactory.create(user=owner)  # private
    trader = TraderFactory.create(strategy=strategy)
    account = SubaccountFactory.create(connection__user=owner)
    group = API_URL_OBJECTS["copy-group-detail"](owner)["pk"]
    _, secret = make_key(intruder, "trade")
    client = bearer(secret)
    own_trader = TraderFactory.create(strategy__user=intruder)
    attempts = {
        "trader-list": ({"name": "Mine", "strategy": strategy.pk}, "strategy"),
        "trader-account-list": ({"trader": trader.pk, "subaccount": account.pk}, "trader"),
        "copy-group-list": ({"name": "Mine", "leader": account.pk}, "leader"),
        "follower-list": ({"group": group, "subaccount": account.pk}, "group"),
    }
    for name, (body, field) in attempts.items():
        response = client.post(reverse(name), data=body, content_type="application/json")
        assert response.status_code == 400, (name, response.json())
        assert field in response.json()["error"]["fields"], (name, response.json())
    # Their own trader on the owner's account: the account is not a choice.
    response = client.post(
        reverse("trader-account-list"),
        data={"trader": own_trader.pk, "subaccount": account.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "subaccount" in response.json()["error"]["fields"]
