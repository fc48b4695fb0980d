"""make demo's alerts (scripts/demo_alerts.py) reach the demo strategy through its real webhook, each its own alert
(two closes at one price are not a duplicate), priced at the simulator's last price."""

from __future__ import annotations

import importlib.util
import io
from typing import Any

import pytest
from django.core.management import call_command

from trading.models import Signal

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_alerts_are_received_as_four_alerts_with_the_simulators_price(
    sim_settings: Any, live_server: Any, settings: Any, plan: Any
) -> None:
    settings.SITE_URL = live_server.url
    sim_settings.control.set_price("MNQZ6", "18000.25")
    call_command("seed_demo", stdout=io.StringIO())
    script = settings.BASE_DIR / "scripts" / "demo_alerts.py"
    spec = importlib.util.spec_from_file_location("demo_alerts", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = module.demo_alerts_send(
        site_url=live_server.url,
        simulator_url=sim_settings.base_url,
        round_trips=2,
        hold_seconds=0,
        settle=0,
    )
    assert [line.split(": ")[1][:3] for line in lines] == ["200"] * 4, lines
    signals = Signal.objects.order_by("id")
    assert [s.action for s in signals] == ["buy", "close", "sell", "close"]
    assert {(s.parsed or {})["alert"]["price"] for s in signals} == {"18000.25"}
    assert not signals.filter(status=Signal.Status.REJECTED).exists()
