"""Resync against the simulator: a follower off its target is brought to it by one order of
the difference; one already there is sent nothing. And D31's restart side: starting the
streams process changes no copy switch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Subaccount, User
from copytrade.models import CopyGroup, Follower
from copytrade.replication import fill_copy
from copytrade.resync import follower_resync
from copytrade.services import CopySetupError, copy_group_create, follower_add
from tests.copytrade.test_replication import net, sim_login
from tests.processes import running, streams_cmd, wait_for
from tests.signals.helpers import outside_order
from tests.trading.test_mirror import apply_all, stream_events
from trading.models import Fill, Order

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


def placed(sim: Any) -> int:
    return int(sim.control.counters()["requests"].get("order/placeorder", 0))


@pytest.fixture
def group(subaccounts: list[Subaccount], member: User, sim_settings: Any) -> CopyGroup:
    sim_settings.control.set_price(SYMBOL, 20000)
    return copy_group_create(user=member, name="Main", leader=subaccounts[0])


def test_a_follower_off_target_is_brought_to_it_by_one_order_and_then_sends_nothing(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    sim = sim_settings
    follower = follower_add(group=group, subaccount=subaccounts[1], ratio=Decimal(2)).follower
    outside_order(sim, "Buy", 2, account_id=1001)  # the leader +2, never copied: target +4
    outside_order(sim, "Buy", 1, account_id=1002)  # the follower holds +1
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.DRIFTED, sync_reason="holds +1, target +4"
    )
    before = placed(sim)

    resynced = follower_resync(follower=follower)

    assert net(sim, 1002) == 4
    assert placed(sim) == before + 1
    [line] = resynced.lines
    assert (line.symbol, line.leader_net, line.held, line.target, line.delta, line.after) == (
        SYMBOL,
        2,
        1,
        4,
        3,
        4,
    )
    assert line.words() == "MNQZ6: held +1, target +4 (leader +2): bought 3, now +4"
    order = Order.objects.get(subaccount=subaccounts[1])
    assert order.cl_ord_id.startswith(f"rs{follower.pk}-") and order.qty == 3
    follower.refresh_from_db()
    assert (follower.sync_state, follower.sync_reason) == (Follower.SyncState.IN_SYNC, "")

    again = follower_resync(follower=follower)  # already at target
    assert placed(sim) == before + 1
    assert [line.words() for line in again.lines] == ["MNQZ6: already at target +4, nothing sent"]


def test_resync_through_the_page_closes_a_follower_when_the_leader_is_flat(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    """An inverse follower left short after the leader closed (its close was not copied) is
    bought back to flat; the page says what was done."""
    sim = sim_settings
    inverse = subaccounts[1]
    follower = follower_add(group=group, subaccount=inverse, ratio=Decimal(-1)).follower
    outside_order(sim, "Buy", 1, account_id=1001)
    outside_order(sim, "Sell", 1, account_id=1001)  # the leader is flat again (a row at 0)
    outside_order(sim, "Sell", 1, account_id=1002)
    assert net(sim, 1002) == -1
    client = Client()
    client.force_login(member)
    before = placed(sim)

    response = client.post(reverse("copytrade:follower_resync", args=[follower.pk]), follow=True)

    assert net(sim, 1002) == 0
    assert placed(sim) == before + 1
    assert (
        "Resynced DEMO1002. MNQZ6: held -1, target +0 (leader +0): bought 1, now +0."
        in response.content.decode()
    )


def test_a_disarmed_or_switched_off_follower_is_not_resynced(
    group: CopyGroup, subaccounts: list[Subaccount], sim_settings: Any
) -> None:
    follower = follower_add(group=group, subaccount=subaccounts[1]).follower
    outside_order(sim_settings, "Buy", 1, account_id=1001)
    before = placed(sim_settings)
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.DISARMED, sync_reason="daily loss limit hit"
    )
    with pytest.raises(CopySetupError, match=r"disarmed \(daily loss limit hit\): re-arm it"):
        follower_resync(follower=follower)
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.IN_SYNC, enabled=False
    )
    with pytest.raises(CopySetupError, match="switched off in this group"):
        follower_resync(follower=follower)
    assert placed(sim_settings) == before
    assert net(sim_settings, 1002) == 0


def test_a_resync_order_on_a_follower_that_leads_is_not_copied_on(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    sim = sim_settings
    follower = follower_add(group=group, subaccount=subaccounts[1]).follower
    chained = copy_group_create(user=member, name="Chained", leader=subaccounts[1])
    third = sim_login(sim, member, "third")
    follower_add(group=chained, subaccount=third)
    outside_order(sim, "Buy", 1, account_id=1001)
    follower_resync(follower=follower)
    assert net(sim, 1002) == 1
    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(subaccounts[0].connection_id, events[:1])  # the resync's fill is recorded
    resync_fill = Fill.objects.get(subaccount=subaccounts[1])
    assert fill_copy(fill_pk=resync_fill.pk) == []
    assert net(sim, third.broker_account_id) == 0


@pytest.mark.worker
def test_starting_the_streams_process_changes_no_copy_switch(
    group: CopyGroup,
    subaccounts: list[Subaccount],
    member: User,
    sim_settings: Any,
    monkeypatch: Any,
) -> None:
    """D31, the restart side: the switches a trader set (a group off, a follower off, one
    disarmed) are as they were after run_streams has started and read the copy accounts."""
    sim = sim_settings
    off = follower_add(group=group, subaccount=subaccounts[1], enabled=False).follower
    other = copy_group_create(user=member, name="Other", leader=sim_login(sim, member, "lead2"))
    disarmed = follower_add(group=other, subaccount=sim_login(sim, member, "f3")).follower
    Follower.objects.filter(pk=disarmed.pk).update(
        sync_state=Follower.SyncState.DISARMED, sync_reason="daily loss limit hit"
    )
    CopyGroup.objects.filter(pk=other.pk).update(enabled=False)
    switches = (
        list(CopyGroup.objects.order_by("id").values_list("enabled", flat=True)),
        list(Follower.objects.order_by("id").values_list("enabled", "sync_state", "sync_reason")),
    )
    assert switches[0] == [True, False]
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    with running(streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-d31"):
        wait_for(
            lambda: sim.control.counters()["requests"].get("user/syncrequest", 0) >= 1,
            timeout=30,
            what="the leader's login streamed",
        )
    assert (
        list(CopyGroup.objects.order_by("id").values_list("enabled", flat=True)),
        list(Follower.objects.order_by("id").values_list("enabled", "sync_state", "sync_reason")),
    ) == switches
    assert off.pk and disarmed.pk
