"""D13 — an environment variable was truncated (42 of 73 characters); every Whop call 401'd.

Invariant: secrets are validated at start-up (format and length); a truncated key stops the
process with an error that names the variable. The Whop API key is also tried against Whop
when a worker starts; a rejected key is logged critically and shown on the health panel.

| D13 | env var truncated -> every Whop call 401 | secrets are validated at start-up (format/length) and health says what is wrong | test |
"""

from __future__ import annotations

from typing import Any

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


@pytest.mark.django_db
def test_a_whop_key_that_whop_rejects_is_named_on_the_health_panel(settings: Any) -> None:
    from django.test import Client

    from billing.membership_events import whop_api_key_verify
    from tests.billing.fake_whop import serve
    from tests.factories import UserFactory

    with serve(settings):
        settings.WHOP_API_KEY = "apik_" + "Q" * 40  # well-formed, but not the key Whop knows
        status = whop_api_key_verify()
    assert status["ok"] is False
    assert "Whop rejected WHOP_API_KEY (401)" in status["error"]
    admin = Client()
    admin.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    panel = admin.get("/admin/billing/whopevent/health/").content.decode()
    assert "Whop rejected WHOP_API_KEY (401)" in panel
    assert settings.WHOP_API_KEY not in panel


@pytest.mark.django_db
def test_a_good_whop_key_is_reported_as_accepted(settings: Any) -> None:
    from billing.membership_events import whop_api_key_verify
    from tests.billing.fake_whop import serve

    with serve(settings) as fake:
        assert whop_api_key_verify()["ok"] is True
    assert fake.requests[0]["auth_ok"]


def test_a_worker_start_triggers_the_whop_key_check() -> None:
    from celery.signals import worker_ready

    receivers = [getattr(r, "__name__", "") for _, r in worker_ready.receivers]
    assert "_verify_whop_key_on_worker_start" in receivers
