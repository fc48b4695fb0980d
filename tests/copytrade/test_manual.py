"""The copy panel at the simulator: a buy with take-profit and stop on the leader, pressed
twice (one trade), copied to the follower with its exits; then the leader closed, and the
follower with it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Subaccount, User
from copytrade.replication import fill_copy
from copytrade.services import copy_group_create, follower_add
from tests.copytrade.test_exits import copies_at_the_broker, mirror_now
from tests.copytrade.test_replication import net
from tests.signals.helpers import working
from trading.models import Fill

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_buy_from_the_panel_reaches_the_follower_with_its_exits_and_close_flattens_both(
    subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    sim = sim_settings
    sim.control.set_price("MNQZ6", 20000)
    group = copy_group_create(user=member, name="Panel", leader=subaccounts[0])
    follower_add(group=group, subaccount=subaccounts[1], ratio=Decimal(2))
    client = Client()
    client.force_login(member)
    buy = {"symbol": "MNQ1!", "qty": "1", "tp_ticks": "20", "stop_ticks": "10", "press": "p1"}

    page = client.post(f"/copy/{group.pk}/trade/", {**buy, "action": "buy"}, follow=True)
    assert "Buy 1 MNQZ6 on DEMO1001: +0 -&gt; +1" in page.content.decode()
    client.post(f"/copy/{group.pk}/trade/", {**buy, "action": "buy"})  # the same press again
    assert net(sim, 1001) == 1
    assert len(working(sim, account_id=1001)) == 2  # take-profit 20005 + stop 19997.50

    mirror_now(sim, subaccounts[0].connection_id)
    fill_copy(fill_pk=Fill.objects.get(subaccount=subaccounts[0]).pk)
    assert net(sim, 1002) == 2
    assert copies_at_the_broker(sim) == {"Limit": (2, 20005, None), "Stop": (2, None, 19997.5)}

    page = client.post(
        f"/copy/{group.pk}/trade/", {**buy, "press": "p2", "action": "close"}, follow=True
    )
    assert "DEMO1001 MNQZ6 closed" in page.content.decode()
    assert net(sim, 1001) == 0 and working(sim, account_id=1001) == []
    mirror_now(sim, subaccounts[0].connection_id)
    close = Fill.objects.filter(subaccount=subaccounts[0]).latest("filled_at", "id")
    fill_copy(fill_pk=close.pk)
    assert net(sim, 1002) == 0 and working(sim, account_id=1002) == []


def test_a_bad_symbol_sends_nothing_and_says_why(
    subaccounts: list[Subaccount], member: User, sim_settings: Any
) -> None:
    group = copy_group_create(user=member, name="Panel", leader=subaccounts[0])
    client = Client()
    client.force_login(member)
    page = client.post(
        f"/copy/{group.pk}/trade/",
        {"symbol": "XXZ6", "qty": "1", "press": "p", "action": "buy"},
        follow=True,
    )
    assert "The leader&#x27;s trade failed: XXZ6" in page.content.decode()
    assert sim_settings.control.counters()["requests"].get("order/placeorder", 0) == 0
