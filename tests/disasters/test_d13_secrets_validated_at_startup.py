"""D13 — an environment variable was truncated (42 of 73 characters); every Whop call 401'd.

Invariant: secrets are validated at start-up (format and length); a truncated key stops the
process with an error that names the variable.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.processes import celery_bin, run_cmd, run_python

TRUNCATED = Fernet.generate_key().decode()[:42]


def test_the_system_check_rejects_a_truncated_encryption_key(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [TRUNCATED]
    settings.FIELD_ENCRYPTION_KEYS_FROM_ENV = True
    with pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "FIELD_ENCRYPTION_KEYS entry 1 is 42 characters long" in str(error.value)


def test_the_system_check_rejects_a_truncated_whop_key(settings) -> None:
    settings.WHOP_API_KEY = "apik_" + "x" * 20
    with pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "WHOP_API_KEY is 25 characters" in str(error.value)


@pytest.mark.parametrize(
    "entry_point",
    [
        ["-c", "import config.asgi"],  # what uvicorn imports
        ["manage.py", "migrate", "--check"],
    ],
)
def test_a_real_process_refuses_to_start_and_names_the_variable(entry_point: list[str]) -> None:
    result = run_python(*entry_point, env={"FIELD_ENCRYPTION_KEYS": TRUNCATED}, timeout=60)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS entry 1 is 42 characters long" in result.stderr


@pytest.mark.parametrize(
    "process", [["worker", "-Q", "default", "--concurrency", "1"], ["beat"]], ids=["worker", "beat"]
)
def test_celery_processes_refuse_to_start_with_a_truncated_key(process: list[str]) -> None:
    cmd = [celery_bin(), "-A", "config", *process]
    result = run_cmd(cmd, env={"FIELD_ENCRYPTION_KEYS": TRUNCATED}, timeout=60)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS entry 1 is 42 characters long" in result.stderr
