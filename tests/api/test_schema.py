"""The OpenAPI schema: valid OpenAPI 3, generated without a warning, and every operation has a
summary, a description for users (no developer docstring) and at least one example."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _has_example(op: dict[str, Any]) -> bool:
    contents = [op.get("requestBody", {}).get("content", {})]
    contents += [r.get("content", {}) for r in op.get("responses", {}).values()]
    return any(media.get("examples") for content in contents for media in content.values())


def _non_error_example(op: dict[str, Any]) -> bool:
    contents = [op.get("requestBody", {}).get("content", {})]
    contents += [
        r.get("content", {}) for code, r in op.get("responses", {}).items() if code < "400"
    ]
    return any(media.get("examples") for content in contents for media in content.values())


def test_the_schema_is_valid_openapi() -> None:
    validate_schema(_schema())


def test_the_schema_is_generated_without_warnings(tmp_path: Any) -> None:
    out = StringIO()
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "s.yaml"),
        stderr=out,
    )
    assert "Warning" not in out.getvalue()


def test_every_operation_is_described_with_an_example() -> None:
    schema = _schema()
    operations = _operations(schema)
    assert len(operations) >= 40
    problems = []
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        if not op.get("summary"):
            problems.append(f"{where}: no summary")
        if not op.get("description"):
            problems.append(f"{where}: no description")
        if not _has_example(op):
            problems.append(f"{where}: no example")
        if method in ("get", "post", "patch") and not _non_error_example(op):
            problems.append(f"{where}: no example of a success")
        if {"401", "429"} - set(op["responses"]):
            problems.append(f"{where}: 401/429 not documented")
    assert problems == []


def test_no_developer_docstring_leaks_into_the_schema() -> None:
    text = str(_schema())
    for words in ("Thin:", "scoped_queryset", "``", "a subclass", "TenantViewSet"):
        assert words not in text


def test_the_bearer_scheme_is_documented() -> None:
    schema = _schema()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_docs_are_served_offline_from_our_static_files() -> None:
    client = Client()
    for name in ("api-docs", "api-redoc"):
        page = client.get(reverse(name)).content.decode()
        assert "drf_spectacular_sidecar" in page, name
        assert re.findall(r"https?://", page) == [], f"{name} loads something from outside"
        for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
            assert client.get(url).status_code == 200, url
    assert client.get(reverse("api-schema")).status_code == 200
