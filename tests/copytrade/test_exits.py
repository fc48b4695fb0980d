"""Copy exits against the simulator: the leader's take-profit + stop (placed by a signal) are
mirrored on the follower as a pair sized to its position, a stop moved by hand on the leader
moves the copy, and the leader's take-profit filling lets the follower's own copy fill (no
second, market, reduction)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Subaccount, User
from copytrade.exits import group_exits_sync
from copytrade.models import CopyOutcome, ExitCopy
from copytrade.replication import fill_copy
from copytrade.services import copy_group_create, follower_add
from tests.copytrade.test_replication import net
from tests.signals.helpers import only_outcome, send, sim_post, working
from tests.trading.test_mirror import apply_all, stream_events
from trading.models import Fill, Order, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


def mirror_now(sim: Any, connection_pk: int) -> None:
    """The broker's snapshot applied to the mirror, as the streams process does."""
    events = stream_events(sim, during=None, until=lambda ev: len(ev) >= 1)
    apply_all(connection_pk, events[:1])


def copies_at_the_broker(sim: Any) -> dict[str, tuple[int, float | None, float | None]]:
    """The follower's (DEMO1002) working orders: type -> (qty, price, stop price)."""
    versions: dict[int, dict[str, Any]] = {}
    for version in sim.control.state()["orderVersions"]:
        if version["orderId"] not in versions or version["id"] > versions[version["orderId"]]["id"]:
            versions[version["orderId"]] = version
    return {
        versions[o["id"]]["orderType"]: (
            versions[o["id"]]["orderQty"],
            versions[o["id"]].get("price"),
            versions[o["id"]].get("stopPrice"),
        )
        for o in working(sim, account_id=1002)
    }


def test_the_leaders_exits_are_mirrored_sized_moved_and_filled_on_the_follower(
    trader_account: TraderAccount,
    strategy: Strategy,
    subaccounts: list[Subaccount],
    member: User,
    sim_settings: Any,
) -> None:
    sim = sim_settings
    sim.control.set_price(SYMBOL, 20000)
    connection_pk = subaccounts[0].connection_id
    group = copy_group_create(user=member, name="Exits", leader=subaccounts[0])
    follower_add(group=group, subaccount=subaccounts[1], ratio=Decimal(2))

    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))  # entry, TP 20005, SL
    mirror_now(sim, connection_pk)
    entry_fill = Fill.objects.get(order__outcome=outcome, order__role=Order.Role.ENTRY)
    fill_copy(fill_pk=entry_fill.pk)
    assert net(sim, 1002) == 2
    assert copies_at_the_broker(sim) == {"Limit": (2, 20005, None), "Stop": (2, None, 19997.5)}
    tp_copy, stop_copy = (
        ExitCopy.objects.get(leader_order__outcome=outcome, leader_order__role=role)
        for role in (Order.Role.TAKE_PROFIT, Order.Role.STOP)
    )
    assert tp_copy.follower_order.role == Order.Role.TAKE_PROFIT
    assert stop_copy.follower_order.role == Order.Role.STOP
    linked = {o["ocoId"] for o in working(sim, account_id=1002)}
    assert len(linked) == 1 and None not in linked

    leader_stop = Order.objects.get(outcome=outcome, role=Order.Role.STOP)
    sim_post(
        sim,
        "order/modifyorder",
        {
            "orderId": leader_stop.broker_order_id,
            "orderQty": 1,
            "orderType": "Stop",
            "stopPrice": 19999.0,
        },
    )  # moved by hand at the broker
    mirror_now(sim, connection_pk)
    group_exits_sync(group_pk=group.pk, leader_symbol=SYMBOL)
    assert copies_at_the_broker(sim)["Stop"] == (2, None, 19999)
    stop_copy.follower_order.refresh_from_db()
    assert stop_copy.follower_order.stop_price == Decimal("19999")

    placed = sim.control.counters()["requests"]["order/placeorder"]
    sim.control.step(SYMBOL, 20)  # both take-profits fill, at 20005; their stops go with them
    mirror_now(sim, connection_pk)
    tp_fill = Fill.objects.get(order__outcome=outcome, order__role=Order.Role.TAKE_PROFIT)
    fill_copy(fill_pk=tp_fill.pk)
    assert (net(sim, 1001), net(sim, 1002)) == (0, 0)
    assert working(sim, account_id=1002) == []
    assert sim.control.counters()["requests"]["order/placeorder"] == placed  # no market sell
    copied = CopyOutcome.objects.get(event__leader_fill=tp_fill)
    assert copied.delta in (0, None) and copied.status in ("done", "nothing"), copied.reason
