"""Security headers: a Content-Security-Policy on every page (no inline script or style of
ours needs an exception), and Cache-Control: no-store on logged-in answers."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def _assert_site_policy(response: object) -> None:
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"][0] == "'self'"
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def test_every_kind_of_page_carries_the_policy() -> None:
    anonymous = Client()
    _assert_site_policy(anonymous.get("/accounts/login/"))
    _assert_site_policy(anonymous.get("/accounts/signup/"))
    _assert_site_policy(anonymous.get("/admin/login/"))
    subscriber = Client()
    subscriber.force_login(UserFactory.create())
    _assert_site_policy(subscriber.get("/dashboard/"))
    admin = Client()
    admin.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    page = admin.get("/admin/")
    assert page.status_code == 200
    _assert_site_policy(page)
    _assert_site_policy(admin.get("/admin/accounts/user/"))


def test_the_chart_library_style_hash_matches_the_vendored_file() -> None:
    """The vendored lightweight-charts writes one <style> element (its attribution logo);
    style-src allows exactly that text. Upgrading the library must update the hash."""
    source = (
        ROOT / "static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"
    ).read_text()
    styles = re.findall(r'createElement\("style"\),this\.\w+\.innerText="([^"]*)"', source)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert settings.CHART_ATTRIBUTION_STYLE_HASH == f"'sha256-{digest}'"
    assert (
        settings.CHART_ATTRIBUTION_STYLE_HASH
        in _policy(Client().get("/accounts/login/"))["style-src"]
    )


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.IGNORECASE
)


def test_no_template_of_ours_has_inline_script_handlers_or_styles() -> None:
    """What the policy forbids must not be in our templates (it would silently break)."""
    templates = [
        path
        for folder in (ROOT / "templates", *ROOT.glob("*/templates"))
        for path in folder.rglob("*.html")
    ]
    assert len(templates) > 20
    # The API docs pages run under their own relaxed policy (config/csp.py, csp_for_api_docs;
    # test_the_real_api_docs_pages_get_their_relaxed_policy_and_other_pages_not).
    relaxed = {"api/templates/api/redoc.html"}
    offenders = {
        str(path.relative_to(ROOT)): INLINE.findall(path.read_text())
        for path in templates
        if INLINE.search(path.read_text()) and str(path.relative_to(ROOT)) not in relaxed
    }
    assert offenders == {}


def test_logged_in_answers_are_not_stored_anonymous_and_static_ones_untouched() -> None:
    user = UserFactory.create()
    client = Client()
    client.force_login(user)
    for url in ("/dashboard/", "/accounts/settings/", "/billing/", "/api/connections/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    # An anonymous page keeps what its view says (the sign-up page: nothing).
    assert not Client().get("/accounts/signup/").has_header("Cache-Control")


@pytest.mark.urls("tests.config.api_docs_urls")
def test_only_the_api_docs_views_relax_the_policy() -> None:
    client = Client()
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _policy(response)
        assert policy["script-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["worker-src"] == ["'self'", "blob:"], url
        assert policy["frame-ancestors"] == ["'none'"], url
    _assert_site_policy(client.get("/plain/"))
