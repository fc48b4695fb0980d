"""Copying a leader's fills to followers, against the simulator: the leader trades by hand
(the simulator's own API), its fills reach the mirror through the real user stream, and
`fill_copy` brings every follower to its target by delta. Disaster rows D27, D28, D32, D33."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import BrokerConnection, Subaccount, User
from copytrade.models import CopyEvent, CopyGroup
from copytrade.replication import fill_copy
from copytrade.services import CopySetupError, copy_group_create, follower_add
from tests.signals.helpers import outside_order
from tests.trading.test_mirror import apply_all, stream_events
from trading.brokers.services import broker_connection_create
from trading.models import Fill

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


def sim_login(sim: Any, member: User, name: str) -> Subaccount:
    """Another simulator user with one account, connected for ``member``."""
    made = sim.control.add_user(name, f"{name}-password", [name.upper()])
    connection = broker_connection_create(
        user=member,
        label=name,
        broker=BrokerConnection.Broker.SIMULATOR,
        username=name,
        password=f"{name}-password",
    )
    account = made["accounts"][0]
    return Subaccount.objects.create(
        connection=connection, broker_account_id=account["id"], name=account["name"]
    )


def net(sim: Any, account_id: int) -> int:
    return sum(
        p["netPos"] for p in sim.control.state()["positions"] if p["accountId"] == account_id
    )


def leader_trades(sim: Any, connection: BrokerConnection, action: str, qty: int) -> Fill:
    """The leader (DEMO1001) trades by hand; the mirror records the fill from the stream's
    snapshot; the newest leader fill is returned."""
    outside_order(sim, action, qty, account_id=1001)
    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(connection.pk, events[:1])
    return Fill.objects.filter(subaccount__broker_account_id=1001).latest("filled_at", "id")


@pytest.fixture
def group(subaccounts: list[Subaccount], member: User, sim_settings: Any) -> CopyGroup:
    sim_settings.control.set_price(SYMBOL, 20000)
    return copy_group_create(user=member, name="Main", leader=subaccounts[0])


def test_followers_reach_their_targets_by_delta_through_adds_partial_closes_and_reversals(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    """D33: an add adds, a partial close partially closes, a reversal reverses; a replayed
    fill sends nothing (D28's dedup by fill id)."""
    sim = sim_settings
    double = subaccounts[1]  # DEMO1002, same login as the leader
    inverse = sim_login(sim, member, "inverse")
    follower_add(group=group, subaccount=double, ratio=Decimal(2))
    follower_add(group=group, subaccount=inverse, ratio=Decimal(-1))
    connection = subaccounts[0].connection
    fills = []
    for action, qty, leader in [
        ("Buy", 1, 1),
        ("Buy", 1, 2),  # add
        ("Sell", 1, 1),  # partial close
        ("Sell", 2, -1),  # reversal
        ("Buy", 1, 0),  # flat: followers flattened
    ]:
        fills.append(leader_trades(sim, connection, action, qty))
        fill_copy(fill_pk=fills[-1].pk)
        assert net(sim, 1001) == leader
        assert (net(sim, 1002), net(sim, inverse.broker_account_id)) == (2 * leader, -leader)

    placed = sim.control.counters()["requests"]["order/placeorder"]
    events = CopyEvent.objects.count()
    assert fill_copy(fill_pk=fills[-1].pk)  # the same fill again (redelivery, replay)
    assert sim.control.counters()["requests"]["order/placeorder"] == placed
    assert CopyEvent.objects.count() == events


def test_copy_orders_never_trigger_copying_and_a_loop_is_refused_with_its_path(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    """D28: DEMO1002 follows DEMO1001 and leads a group of its own; the copy it receives is
    not copied on. DEMO1001 following DEMO1002 would close a loop: refused, path named."""
    sim = sim_settings
    follower_add(group=group, subaccount=subaccounts[1])
    chained = copy_group_create(user=member, name="Chained", leader=subaccounts[1])
    third = sim_login(sim, member, "third")
    follower_add(group=chained, subaccount=third)
    with pytest.raises(CopySetupError, match="DEMO1001 → DEMO1002 → DEMO1001"):
        follower_add(group=chained, subaccount=subaccounts[0])

    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 1)
    fill_copy(fill_pk=fill.pk)
    assert net(sim, 1002) == 1
    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(subaccounts[0].connection_id, events[:1])  # the copy's own fill is recorded
    copy_fill = Fill.objects.get(subaccount=subaccounts[1])
    assert fill_copy(fill_pk=copy_fill.pk) == []
    assert net(sim, third.broker_account_id) == 0
    assert not CopyEvent.objects.filter(group=chained).exists()


def test_followers_are_served_at_once_not_one_after_another(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    """D27/D32: with 150 ms per broker call, four followers take about as long as one."""
    sim = sim_settings
    connection = subaccounts[0].connection
    one = sim_login(sim, member, "solo")
    follower_add(group=group, subaccount=one)
    sim.control.faults(latency_ms=150)
    fill = leader_trades(sim, connection, "Buy", 1)
    started = time.monotonic()
    fill_copy(fill_pk=fill.pk)
    alone = time.monotonic() - started

    for name in ("p1", "p2", "p3"):
        follower_add(group=group, subaccount=sim_login(sim, member, name))
    fill = leader_trades(sim, connection, "Buy", 1)
    started = time.monotonic()
    fill_copy(fill_pk=fill.pk)
    together = time.monotonic() - started
    print(f"\none follower {alone * 1000:.0f} ms, four {together * 1000:.0f} ms")
    assert together < 2 * alone
    assert net(sim, one.broker_account_id) == 2
    for sub in Subaccount.objects.filter(name__in=["P1", "P2", "P3"]):
        assert net(sim, sub.broker_account_id) == 2  # each brought to the leader's 2


def test_a_follower_past_its_daily_loss_is_disarmed_and_then_only_closed_with_the_leader(
    group: CopyGroup, subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    """Today's loss on the follower ($20, as the broker reports it) reaches its limit ($10):
    the next add is not copied and it says why; the leader's close is still copied."""
    sim = sim_settings
    follower = follower_add(
        group=group, subaccount=subaccounts[1], max_daily_loss=Decimal(10)
    ).follower
    connection = subaccounts[0].connection
    fill_copy(fill_pk=leader_trades(sim, connection, "Buy", 1).pk)
    assert net(sim, 1002) == 1
    sim.control.set_price(SYMBOL, 19990)
    outside_order(sim, "Sell", 1, account_id=1002)  # by hand: the follower takes a $20 loss
    outside_order(sim, "Buy", 1, account_id=1002)
    assert net(sim, 1002) == 1

    fill_copy(fill_pk=leader_trades(sim, connection, "Buy", 1).pk)  # an add: not copied
    follower.refresh_from_db()
    assert follower.sync_state == "disarmed"
    assert "today's loss $20" in follower.sync_reason and "limit $10" in follower.sync_reason
    assert net(sim, 1002) == 1
    fill_copy(fill_pk=leader_trades(sim, connection, "Sell", 2).pk)  # the leader closes
    assert (net(sim, 1001), net(sim, 1002)) == (0, 0)


def test_a_fill_from_before_the_group_existed_is_not_queued_nor_logged(
    subaccounts: list[Subaccount], member: User
) -> None:
    """An account's history, first synced when a group already leads it, is not the group's:
    no copy is queued and no copy event is logged for it (the demo's five days of fills)."""
    from datetime import timedelta

    from django.utils import timezone

    from copytrade.apps import _leader_fill
    from tests.factories import FillFactory
    from trading.mirror_signals import fill_recorded

    leader = subaccounts[0]
    copy_group_create(user=member, name="History", leader=leader)
    old = FillFactory.create(subaccount=leader, filled_at=timezone.now() - timedelta(days=3))
    results = dict(fill_recorded.send_robust(sender=Fill, fill_pk=old.pk, subaccount_pk=leader.pk))
    assert results[_leader_fill] is False
    assert not CopyEvent.objects.exists()
