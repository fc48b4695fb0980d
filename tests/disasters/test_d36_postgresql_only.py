"""D36 — token refresh used sqlite3 in production while everything else used PostgreSQL.

Invariant: one database layer (the ORM on PostgreSQL); no sqlite3 in app code, and a
non-PostgreSQL DATABASE_URL is refused at start-up.
"""

from __future__ import annotations

import pytest
from django.db import connection

from config.checks import database_problems
from tests.lint import app_sources, sqlite_uses


def test_the_checker_finds_sqlite() -> None:
    found = sqlite_uses("import sqlite3\nENGINE = 'django.db.backends.sqlite3'\n")
    assert len(found) == 2


def test_app_code_has_no_sqlite() -> None:
    offenders = {path: found for path, source in app_sources() if (found := sqlite_uses(source))}
    assert offenders == {}


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"


def test_a_sqlite_database_is_refused_at_start_up() -> None:
    (error,) = database_problems({"default": {"ENGINE": "django.db.backends.sqlite3"}})
    assert error.id == "bracketeer.E006"
    assert "PostgreSQL only" in error.msg
    assert database_problems({"default": {"ENGINE": "django.db.backends.postgresql"}}) == []
