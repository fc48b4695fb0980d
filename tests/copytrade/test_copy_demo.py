"""Issue 11's acceptance on the demo: `make demo`'s simulator (four demo accounts, as the
Procfile starts it) and `seed_demo`'s copy group. A trade on the leader DEMO1002 made with the
simulator's own API appears on DEMO1003 (x2) and DEMO1004 (inverse); closing it flattens them.
Real run_streams and worker processes; nothing in the test calls our copy code."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from copytrade.models import CopyGroup, Follower
from tests.copytrade.test_replication import net
from tests.processes import running, streams_cmd, wait_for, worker_cmd
from tests.signals.helpers import outside_order
from tests.sim_fixtures import start_simulator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PROCFILE_DEMO_ACCOUNTS = "DEMO1001,DEMO1002,DEMO1003,DEMO1004"


def test_the_demo_copy_group_copies_a_hand_trade_on_its_leader(
    plan: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    procfile = (settings.BASE_DIR / "Procfile").read_text()
    assert f"--demo-accounts {PROCFILE_DEMO_ACCOUNTS}" in procfile
    with start_simulator(demo_accounts=PROCFILE_DEMO_ACCOUNTS) as sim:
        settings.SIMULATOR_URL = sim.base_url
        monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
        call_command("seed_demo", stdout=io.StringIO())
        group = CopyGroup.objects.get(name="Copy demo")
        assert group.leader.name == "DEMO1002" and group.enabled
        ratios = {f.subaccount.name: f.ratio for f in Follower.objects.filter(group=group)}
        assert ratios == {"DEMO1003": 2, "DEMO1004": -1}
        sim.control.set_price("MNQZ6", 20000)
        with (
            running(worker_cmd(queues="copytrade"), log_name="worker-copy-demo"),
            running(streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-demo"),
        ):
            wait_for(
                lambda: sim.control.counters()["requests"].get("user/syncrequest", 0) >= 1,
                timeout=30,
                what="the demo login streamed",
            )
            outside_order(sim, "Buy", 1, account_id=1002)
            try:
                wait_for(
                    lambda: (net(sim, 1003), net(sim, 1004)) == (2, -1),
                    timeout=20,
                    what="DEMO1003 at 2 and DEMO1004 at -1",
                )
            except AssertionError as exc:  # say what the copy recorded, not only that it failed
                from copytrade.models import CopyEvent, CopyOutcome

                events = list(CopyEvent.objects.values())
                outcomes = list(
                    CopyOutcome.objects.values("status", "reason", "error", "target", "symbol")
                )
                raise AssertionError(f"{exc}; events {events}; outcomes {outcomes}") from None
            outside_order(sim, "Sell", 1, account_id=1002)
            wait_for(
                lambda: (net(sim, 1003), net(sim, 1004)) == (0, 0),
                timeout=20,
                what="both followers flat",
            )
        assert net(sim, 1001) == 0  # the strategy's account is not part of the group
