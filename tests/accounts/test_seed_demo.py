"""`make demo` seeds a subscriber who can trade at once: the printed curl line's alert becomes
entry + take-profit + stop on the paper account (the acceptance of the signals issue)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.processes import process_env
from tests.signals.helpers import only_outcome, position, working
from trading.execution import signal_execute
from trading.models import Strategy, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_strategy_trades_the_printed_alert_on_the_paper_account(
    sim_settings: Any, plan: Any
) -> None:
    printed = _seed()
    again = _seed()  # idempotent: a second `make demo` changes nothing
    strategy = Strategy.objects.get(name="MNQ demo")
    assert TraderAccount.objects.filter(trader__strategy=strategy).count() == 1
    match = re.search(r"curl -X POST (\S+) -d '(.+)'", printed)
    assert match is not None, printed
    assert match[1].endswith(f"/webhooks/tradingview/{strategy.webhook_token}/")
    assert match[1] in again

    sim_settings.control.set_price("MNQZ6", "18000.00")
    received = signal_receive(strategy=strategy, raw=match[2].encode())
    assert received.status == "accepted", received.reason
    assert json.loads(match[2]) == {"action": "buy", "ticker": "MNQZ2026"}
    outcome = only_outcome(signal_execute(signal_id=received.signal.pk))
    assert outcome.decision == "open", outcome.reason
    assert position(sim_settings) == 1
    assert len(working(sim_settings)) == 2  # take-profit and stop


DEMO_SCRIPT = """
from django.core.management import call_command
from django.db import transaction

from accounts.models import User
from billing import emails

call_command("seed_demo")
with transaction.atomic():
    delivery = emails.activation_send(user=User.objects.get(email="demo@bracketeer.local"))
    emails.email_delivery_attempt(delivery_id=delivery.pk, final=True)
    transaction.set_rollback(True)  # a worker would send it after commit: not here
"""


def _demo_process_output(*, web_port: str, extra: dict[str, str] | None = None) -> str:
    """What `make demo`'s seeding prints, and the activation e-mail it would send, in a fresh
    process that gets only the environment the Makefile gives it (no SITE_URL)."""
    env = {k: v for k, v in process_env().items() if k not in ("SITE_URL", "WEB_HOST")}
    env.update(
        {
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": web_port,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            **(extra or {}),
        }
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", DEMO_SCRIPT],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_demo_prints_urls_on_the_port_it_serves(plan: Any) -> None:
    out = _demo_process_output(web_port="8123")
    urls = re.findall(r"https?://[^\s'\"]+", out)
    kinds = {
        "site": "  Site:    http://localhost:8123/",
        "admin": "http://localhost:8123/admin/",
        "webhook": "curl -X POST http://localhost:8123/webhooks/tradingview/",
        "activation e-mail": "http://localhost:8123/accounts/activate/",
    }
    for kind, text in kinds.items():
        assert text in out, f"{kind}: {text!r} not in {out}"
    assert urls and all(u.startswith("http://localhost:8123/") for u in urls), urls


def test_a_given_site_url_wins_over_the_port(plan: Any) -> None:
    out = _demo_process_output(web_port="8123", extra={"SITE_URL": "https://demo.example"})
    assert "curl -X POST https://demo.example/webhooks/tradingview/" in out
    assert ":8123" not in out
