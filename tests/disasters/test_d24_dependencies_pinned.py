"""D24 — an unpinned e-mail SDK upgraded itself; no activation e-mails for two days.

Invariant: every dependency is pinned in a lock (exact versions, hashes) and installed from it
unchanged; an e-mail that fails to send is recorded, retried with backoff (bounded), and
visible in the admin.

| D24 | unpinned email SDK upgraded itself -> no activation emails for 2 days | every dependency pinned in a lock; email failure is visible and retried | check + test |
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
EXACT = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([0-9][^;,\s]*)$")


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = project.get("dependency-groups", {})
    return [*project["project"]["dependencies"], *(d for g in groups.values() for d in g)]


def test_every_declared_dependency_is_pinned_exactly() -> None:
    loose = [d for d in _declared() if not EXACT.match(d)]
    assert loose == []


def test_the_lock_holds_every_declared_version_with_hashes() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p for p in lock["package"]}
    for requirement in _declared():
        match = EXACT.match(requirement)
        assert match is not None
        name = match.group(1).lower().replace("_", "-")
        assert name in locked, f"{name} is declared but not locked"
        assert locked[name]["version"] == match.group(3), f"{name}: lock and pyproject disagree"
    unhashed = [
        name
        for name, p in locked.items()
        if p.get("source", {}).get("registry")
        and not all(
            "hash" in w for w in p.get("wheels", []) + ([p["sdist"]] if "sdist" in p else [])
        )
    ]
    assert unhashed == []


def test_installs_use_the_lock_unchanged() -> None:
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "uv sync --frozen" in bootstrap
    # CI runs the README's `make test`, whose first prerequisite installs from the lock.
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    install = makefile[makefile.index("\ninstall:") :].split("\n\n")[0]
    assert "scripts/bootstrap.sh" in install, install
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert test_line.split(":")[1].split()[0] == "install", test_line


def test_the_email_sdk_is_one_of_the_pinned_dependencies() -> None:
    assert "django-anymail[brevo]==15.2" in _declared()


def _pending_activation() -> Any:
    from accounts.models import User
    from billing.models import EmailDelivery

    user = User.objects.create(email="waiting@example.com", is_active=False)
    return EmailDelivery.objects.create(
        user=user, to_email=user.email, kind="activation", subject="Activate"
    )


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_retried_with_backoff(settings: Any) -> None:
    from billing.tasks import email_delivery_send

    settings.EMAIL_BACKEND = "tests.billing.failing_email.AlwaysFailingBackend"
    delivery = _pending_activation()
    with pytest.raises(Retry) as retry:
        email_delivery_send.apply(args=(delivery.pk,), throw=True)  # one run, as a worker would
    assert retry.value.when == 30  # first backoff step
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.last_error == "ConnectionError: Brevo API: 503 Service Unavailable"


@pytest.mark.django_db
def test_retries_are_bounded_and_the_failure_stays_visible(settings: Any) -> None:
    from billing.models import EmailDelivery
    from billing.tasks import EMAIL_MAX_RETRIES, email_delivery_send

    settings.EMAIL_BACKEND = "tests.billing.failing_email.AlwaysFailingBackend"
    delivery = _pending_activation()
    # The last allowed run (retries == max) gives up instead of retrying.
    result = email_delivery_send.apply(args=(delivery.pk,), retries=EMAIL_MAX_RETRIES)
    assert result.result is False
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.FAILED

    staff = _superuser()
    listing = staff.get("/admin/billing/emaildelivery/?status=failed").content.decode()
    assert "waiting@example.com" in listing and "503 Service Unavailable" in listing


@pytest.mark.django_db
def test_a_transient_failure_is_delivered_on_the_retry(settings: Any) -> None:
    from billing.emails import email_delivery_attempt
    from tests.billing import failing_email

    settings.EMAIL_BACKEND = "tests.billing.failing_email.FlakyBackend"
    failing_email.FAILURES_LEFT["n"] = 1
    delivery = _pending_activation()
    assert email_delivery_attempt(delivery_id=delivery.pk, final=False) is False
    assert email_delivery_attempt(delivery_id=delivery.pk, final=False) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert "/accounts/activate/" in mail.outbox[0].body


def _superuser() -> Client:
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_production_email_configuration_is_checked_at_start_up() -> None:
    from billing.checks import BREVO_BACKEND, email_problems

    assert email_problems(backend=BREVO_BACKEND, brevo_api_key="")[0].id == "bracketeer.E010"
    truncated = email_problems(backend=BREVO_BACKEND, brevo_api_key="xkeysib-abc123")
    assert "BREVO_API_KEY is 14 characters" in truncated[0].msg
    assert email_problems(backend=BREVO_BACKEND, brevo_api_key="xkeysib-" + "a" * 64 + "-Zz9") == []
