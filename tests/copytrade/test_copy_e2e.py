"""Copy trading end to end with real processes: run_streams mirrors the leader's fill, a real
worker copies it. The leader trades by hand (the simulator's own API); nothing in the test
calls our copy code."""

from __future__ import annotations

import os
import signal
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Subaccount, User
from analytics.models import Trade
from copytrade.models import CopyEvent, CopyOutcome
from copytrade.services import copy_group_create, follower_add
from tests.copytrade.test_replication import net, sim_login
from tests.processes import beat_cmd, running, streams_cmd, wait_for, worker_cmd
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
        closed = Trade.objects.filter(closed_at__isnull=False)
        wait_for(lambda: closed.count() == 3, timeout=20, what="three closed trades")
    assert CopyOutcome.objects.filter(status=CopyOutcome.Status.DONE).count() == 4
    # Each follower's trade is attributed to the copy event of the leader's opening fill.
    opening = CopyEvent.objects.filter(group=group).earliest("id")
    for follower in (subaccounts[1], inverse):
        trade = closed.get(subaccount=follower)
        assert opening in trade.copy_events.all(), follower
    assert not closed.get(subaccount=subaccounts[0]).copy_events.exists()  # the leader's own


def test_a_worker_killed_mid_copy_is_resumed_by_the_sweep_and_no_follower_trades_twice(
    subaccounts: list[Subaccount], member: User, sim_settings: Any, monkeypatch: Any
) -> None:
    """The copying worker is SIGKILLed while a follower's order call hangs; beat's sweep sees
    the event's lease lapse and copies the fill again: every follower ends at its target with
    exactly one order for that fill (deterministic clOrdIds, rows before calls)."""
    sim = sim_settings
    sim.control.set_price("MNQZ6", 20000)
    group = copy_group_create(user=member, name="Crash copy", leader=subaccounts[0])
    follower_add(group=group, subaccount=subaccounts[1], ratio=Decimal(2))
    other = sim_login(sim, member, "crashcopy")
    follower_add(group=group, subaccount=other, ratio=Decimal(1))
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("TRADOVATE_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("COPY_LEASE_SECONDS", "3")
    with running(
        streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-copy-crash"
    ):
        wait_for(
            lambda: sim.control.counters()["requests"].get("user/syncrequest", 0) >= 2,
            timeout=30,
            what="both logins streamed",
        )
        outside_order(sim, "Buy", 1, account_id=1001)  # copied once a worker is up
        # One follower's order call hangs (then is carried out): the worker dies mid-copy.
        sim.control.faults(hang={"count": 1, "seconds": 2, "endpoints": ["order/placeorder"]})
        with running(worker_cmd(queues="copytrade"), log_name="worker-copy-crash-1") as first:
            wait_for(
                lambda: sim.control.counters()["requests"].get("order/placeorder", 0) >= 3,
                timeout=30,
                what="the worker to send the followers' orders",
            )
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        assert CopyOutcome.objects.exclude(status=CopyOutcome.Status.DONE).exists()
        with (
            running(worker_cmd(queues="copytrade,default"), log_name="worker-copy-crash-2"),
            running(beat_cmd(), log_name="beat-copy-crash"),
        ):
            wait_for(
                lambda: (
                    (net(sim, 1002), net(sim, other.broker_account_id)) == (2, 1)
                    and not CopyOutcome.objects.exclude(status=CopyOutcome.Status.DONE).exists()
                ),
                timeout=40,
                what="the sweep to finish the copy",
            )
    placed = [o.get("clOrdId", "") for o in sim.control.state()["orders"]]
    copies = [c for c in placed if c.startswith("cp")]
    assert len(copies) == len(set(copies)) == 2, placed
