"""`make demo` seeds a subscriber who can trade at once: the printed curl line's alert becomes
entry + take-profit + stop on the paper account (the acceptance of the signals issue)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.management import call_command

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
