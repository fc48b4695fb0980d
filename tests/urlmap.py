"""Every named URL of the project, and how to build the arguments of those that need them.

When a later issue adds a URL with arguments, it adds an entry to ``URL_OBJECTS`` (a factory
that creates the owner's object and returns the URL kwargs). The D01 test fails until it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from tests.factories import BrokerConnectionFactory

URL_OBJECTS: dict[str, Callable[[User], dict[str, Any]]] = {
    "accounts:connection_detail": lambda owner: {
        "pk": BrokerConnectionFactory.create(user=owner).pk
    },
    "connection-detail": lambda owner: {"pk": BrokerConnectionFactory.create(user=owner).pk},
    "accounts:connection_test": lambda owner: {"pk": BrokerConnectionFactory.create(user=owner).pk},
    "accounts:connection_delete": lambda owner: {
        "pk": BrokerConnectionFactory.create(user=owner).pk
    },
}
# URLs that are not "pages for a tenant": how they are requested and what they may answer.
SPECIAL: dict[str, dict[str, Any]] = {
    "accounts:logout": {"method": "post", "ok": {302}},
    "healthz": {"method": "get", "ok": {200, 503}},  # 503 without worker/beat: the truth
    # POST-only; a connection without a login is tested, the failure recorded, and redirected.
    "accounts:connection_test": {"method": "post", "ok": {302}},
}
EXCLUDED_NAMESPACES = {"admin"}  # covered by the admin test, staff only


def named_urls() -> Iterator[str]:
    """Fully qualified names of every named URL pattern (namespaces joined with ':')."""
    seen: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                if p.namespace in EXCLUDED_NAMESPACES:
                    continue
                yield from walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{prefix}{p.name}"
                if name not in seen:
                    seen.add(name)
                    yield name

    yield from walk(get_resolver().url_patterns, "")
