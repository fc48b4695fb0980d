"""Copy trading end to end with real processes: run_streams mirrors the leader's fill, a real
worker copies it. The leader trades by hand (the simulator's own API); nothing in the test
calls our copy code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Subaccount, User
from copytrade.models import CopyOutcome
from copytrade.services import copy_group_create, follower_add
from tests.copytrade.test_replication import net, sim_login
from tests.processes import running, streams_cmd, wait_for, worker_cmd
from tests.signals.helpers import outside_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_hand_trade_on_the_leader_reaches_both_followers_and_closing_it_flattens_them(
    subaccounts: list[Subaccount], member: User, sim_settings: Any, monkeypatch: Any
) -> None:
    sim = sim_settings
    sim.control.set_price("MNQZ6", 20000)
    group = copy_group_create(user=member, name="Paper copy", leader=subaccounts[0])
    follower_add(group=group, subaccount=subaccounts[1], ratio=Decimal(2))
    inverse = sim_login(sim, member, "mirror")
    follower_add(group=group, subaccount=inverse, ratio=Decimal(-1))
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    with (
        running(worker_cmd(queues="copytrade"), log_name="worker-copy"),
        running(streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-copy"),
    ):
        wait_for(
            lambda: sim.control.counters()["requests"].get("user/syncrequest", 0) >= 2,
            timeout=30,
            what="both logins streamed",
        )
        outside_order(sim, "Buy", 1, account_id=1001)
        wait_for(
            lambda: (net(sim, 1002), net(sim, inverse.broker_account_id)) == (2, -1),
            timeout=20,
            what="the followers at 2 and -1",
        )
        outside_order(sim, "Sell", 1, account_id=1001)  # the leader closes by hand
        wait_for(
            lambda: (net(sim, 1002), net(sim, inverse.broker_account_id)) == (0, 0),
            timeout=20,
            what="the followers flat",
        )
    assert CopyOutcome.objects.filter(status=CopyOutcome.Status.DONE).count() == 4
