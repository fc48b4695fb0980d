"""config/rows_update: many rows, each with its own values, in one UPDATE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.rows_update import rows_update
from tests.factories import StrategyFactory
from trading.models import Signal


@pytest.mark.django_db
def test_each_row_gets_its_own_values_nulls_and_json_included_in_one_statement(user: Any) -> None:
    strategy = StrategyFactory.create(user=user)
    rows = [
        Signal.objects.create(strategy=strategy, idempotency_key=f"k{i}", raw_body="{}")
        for i in range(3)
    ]
    untouched = Signal.objects.create(strategy=strategy, idempotency_key="k9", raw_body="{}")
    when = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
    rows[0].status, rows[0].timings, rows[0].completed_at = "done", {"read": 1.5}, when
    rows[1].status, rows[1].timings, rows[1].completed_at = "failed", {}, None
    rows[2].status, rows[2].timings, rows[2].completed_at = "in_doubt", {"a": [1, "x"]}, None
    with CaptureQueriesContext(connection) as queries:
        assert rows_update(rows, fields=["status", "timings", "completed_at"]) == 3
    assert len(queries) == 1
    stored = {s.pk: s for s in Signal.objects.all()}
    assert [
        (stored[r.pk].status, stored[r.pk].timings, stored[r.pk].completed_at) for r in rows
    ] == [
        ("done", {"read": 1.5}, when),
        ("failed", {}, None),
        ("in_doubt", {"a": [1, "x"]}, None),
    ]
    assert stored[untouched.pk].status == Signal.Status.RECEIVED
    assert rows_update([], fields=["status"]) == 0
