"""Every route the API router knows, generated from it: a new endpoint is walked by the tests
without anyone adding it here (a route naming an object needs a factory in tests/urlmap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern

from api.urls import router


@dataclass(frozen=True)
class Route:
    name: str
    methods: tuple[str, ...]  # lower-case HTTP methods the route answers (HEAD/OPTIONS left out)
    takes_pk: bool


def api_routes() -> list[Route]:
    found = []
    for pattern in router.urls:
        assert isinstance(pattern, URLPattern)
        actions = getattr(pattern.callback, "actions", None)
        if actions is None:  # the API root
            continue
        methods = tuple(sorted(m for m in actions if m not in ("head", "options")))
        takes_pk = "pk" in pattern.pattern.regex.groupindex
        found.append(Route(name=str(pattern.name), methods=methods, takes_pk=takes_pk))
    return sorted(found, key=lambda r: r.name)


WRITE_METHODS = ("post", "put", "patch", "delete")
