"""The ORM is the only SQL writer in app code (D05's process half; D36 and D25 have their files)."""

from __future__ import annotations

from tests.lint import app_sources, raw_sql_uses


def test_the_checker_finds_cursor_raw_extra_and_rawsql() -> None:
    bad = (
        "from django.db import connection\n"
        "from django.db.models.expressions import RawSQL\n"
        "with connection.cursor() as c:\n    c.execute('SELECT 1 WHERE x = ?')\n"
        "Order.objects.raw('SELECT * FROM trading_order')\n"
        "Order.objects.extra(where=['1=1'])\n"
    )
    found = raw_sql_uses(bad)
    assert any(".cursor()" in f for f in found)
    assert any(".execute()" in f for f in found)
    assert any(".raw()" in f for f in found)
    assert any(".extra()" in f for f in found)
    assert any("RawSQL" in f for f in found)


def test_redis_pipelines_are_not_sql() -> None:
    assert raw_sql_uses("pipe = client.pipeline()\npipe.execute()\n") == []


def test_app_code_has_no_hand_written_sql() -> None:
    offenders = {path: found for path, source in app_sources() if (found := raw_sql_uses(source))}
    assert offenders == {}
