"""Schemathesis against a live test server: generated requests to every GET operation of the
schema (a few examples each, bounded) never get a 5xx, and every answer conforms to the schema
(status code documented, content type, body). Authenticated with a real read key."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UserFactory
from tests.urlmap import API_URL_OBJECTS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6


@pytest.mark.timeout(120)
def test_get_operations_conform_to_the_schema(
    live_server: Any, transactional_db: Any, make_key: Any
) -> None:
    user = UserFactory.create()
    for make in API_URL_OBJECTS.values():  # one object of every kind, so lists have rows
        make(user)
    _, secret = make_key(user, "read")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/").include(method="GET")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the schema has operations schemathesis cannot read"
    assert len(operations) >= 20
    started = time.monotonic()
    calls: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(
                base_url=live_server.url, headers=headers, checks=CHECKS
            )
            calls.append(f"{case.method} {case.formatted_path} {response.status_code}")

        run()
    assert time.monotonic() - started < 60
    assert len(calls) >= 2 * len(operations)  # every operation was really called
    assert any(c.endswith(" 200") for c in calls) and any(c.endswith(" 404") for c in calls)
