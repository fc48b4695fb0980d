"""D01 — a bulk edit deleted a template; the page 500'd in production.

Invariant: every page renders. Every named URL is requested as its owner (200/302, never a
TemplateDoesNotExist or a 500), and every URL that names an object answers 404 to another
tenant, on read and on write. A URL with arguments but no entry in ``tests/urlmap.py`` fails.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, resolve, reverse

from tests.factories import UserFactory
from tests.urlmap import SPECIAL, URL_OBJECTS, named_urls

pytestmark = pytest.mark.django_db


def test_the_project_has_named_urls_to_check() -> None:
    names = set(named_urls())
    assert {"dashboard", "accounts:login", "accounts:signup", "healthz"} <= names


@pytest.mark.parametrize("name", sorted(named_urls()))
def test_every_named_url_renders_for_its_owner(
    name: str, owner_client: Client, user: object
) -> None:
    try:
        url = reverse(name)
    except NoReverseMatch:
        if name not in URL_OBJECTS:
            pytest.fail(f"URL {name!r} takes arguments: add a factory for it to tests/urlmap.py")
        url = reverse(name, kwargs=URL_OBJECTS[name](user))  # type: ignore[arg-type]
    special = SPECIAL.get(name, {"method": "get", "ok": {200, 302}})
    response = getattr(owner_client, special["method"])(url)
    assert response.status_code in special["ok"], f"{name} -> {url}: {response.status_code}"


@pytest.mark.parametrize("name", sorted(URL_OBJECTS))
def test_another_tenant_gets_404_on_read_and_write(
    name: str, user: object, other_client: Client
) -> None:
    url = reverse(name, kwargs=URL_OBJECTS[name](user))  # type: ignore[arg-type]
    method = SPECIAL.get(name, {"method": "get"})["method"]
    assert getattr(other_client, method)(url).status_code == 404
    write = other_client.patch(url, data={"label": "stolen"}, content_type="application/json")
    assert write.status_code in {404, 405}  # 405: the page has no write method at all
    actions = getattr(resolve(url).func, "actions", {})
    if "patch" in actions:  # a writable API object: the foreign write must be a 404
        assert write.status_code == 404


@pytest.mark.parametrize("name", sorted(named_urls()))
def test_anonymous_visitors_are_sent_to_log_in_never_a_500(name: str, user: object) -> None:
    try:
        url = reverse(name)
    except NoReverseMatch:
        url = reverse(name, kwargs=URL_OBJECTS[name](user))  # type: ignore[arg-type]
    response = Client().get(url)
    # 401: the API asks for a key (``WWW-Authenticate: Bearer``).
    assert response.status_code in {200, 302, 401, 403, 405, 503}, f"{name}: {response.status_code}"


def test_every_admin_page_renders_for_support_staff() -> None:
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    request = RequestFactory().get("/admin/")
    request.user = staff
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        # Read-only records (Whop events, e-mail deliveries...) deliberately have no add page.
        views = (
            ("changelist", "add") if model_admin.has_add_permission(request) else ("changelist",)
        )
        for view in views:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}")
            assert client.get(url).status_code == 200, url
