"""D25 — an internal HTTP call without auth: every follower trade 401'd.

Invariant: the app never calls its own URLs over HTTP; services are called directly. Only the
clients of external services may import an HTTP library at all.
"""

from __future__ import annotations

from tests.lint import app_sources, http_to_self_uses


def test_the_checker_finds_http_to_self() -> None:
    bad = (
        "import httpx\nfrom django.conf import settings\nfrom django.urls import reverse\n"
        "httpx.post(settings.SITE_URL + '/api/copy/')\n"
        "client.post(reverse('copytrade:replicate'))\n"
    )
    found = http_to_self_uses("copytrade/services.py", bad)
    assert any("imports httpx" in f for f in found)
    assert any("SITE_URL" in f for f in found)
    assert any("reverse" in f for f in found)


def test_external_clients_may_use_http_but_not_towards_us() -> None:
    assert (
        http_to_self_uses("trading/brokers/tradovate/rest.py", "import httpx\nhttpx.get(url)\n")
        == []
    )
    found = http_to_self_uses(
        "trading/brokers/tradovate/rest.py", "import httpx\nhttpx.get(settings.SITE_URL)\n"
    )
    assert found != []


def test_app_code_never_calls_itself_over_http() -> None:
    offenders = {
        path: found for path, source in app_sources() if (found := http_to_self_uses(path, source))
    }
    assert offenders == {}
