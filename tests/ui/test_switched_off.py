"""A trader can switch off a strategy's stop and limits (None would inherit them; D06): the
checkbox round-trips through the form, reaches the engine as OFF, and an entry then goes out
with no stop at the simulator."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory
from tests.ui.sim_setup import ui_account, working_orders
from trading.alerts import parse_alert
from trading.execution import signal_execute
from trading.models import Order, Trader, TraderAccount
from trading.services import signal_receive
from trading.settings_mapping import effective_settings

__all__ = ["ui_account"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fresh(account: TraderAccount) -> TraderAccount:
    """As the worker loads it: from the database."""
    return TraderAccount.objects.select_related("trader__strategy", "trader__user").get(
        pk=account.pk
    )


def _alert() -> Any:
    return parse_alert({"action": "buy", "ticker": "MNQZ2026"})


@pytest.mark.django_db
def test_switched_off_round_trips_and_reaches_the_engine_as_none(member: User) -> None:
    strategy = StrategyFactory.create(
        user=member,
        stop_distance=Decimal("10"),
        stop_unit="ticks",
        max_signals_per_day=1,
        max_daily_loss=Decimal("200"),
        break_even_trigger_ticks=8,
    )
    trader = TraderFactory.create(strategy=strategy, user=member, name="No stop")
    account = _fresh(TraderAccountFactory.create(trader=trader))
    before = effective_settings(account=account, alert=_alert())
    assert before.stop is not None and before.max_signals_per_day == 1

    client = _client(member)
    response = client.post(
        reverse("trading:trader_edit", args=[trader.pk]),
        {
            "name": "No stop",
            "strategy": strategy.pk,
            "enabled": "on",
            "switched_off": ["stop", "max_signals_per_day", "break_even"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    trader.refresh_from_db()
    assert sorted(trader.switched_off) == ["break_even", "max_signals_per_day", "stop"]
    account = _fresh(account)
    after = effective_settings(account=account, alert=_alert())
    assert after.stop is None
    assert after.max_signals_per_day is None
    assert after.break_even is None
    assert after.max_daily_loss == before.max_daily_loss  # not switched off: still inherited

    edit = client.get(reverse("trading:trader_edit", args=[trader.pk])).content.decode()
    assert 'value="stop" id="id_switched_off_0" checked' in edit
    assert 'value="trailing" id="id_switched_off_2">' in edit
    detail = client.get(reverse("trading:trader_detail", args=[trader.pk])).content.decode()
    assert detail.count("off (switched off for this trader)") == 5  # stop x2, be x2, signals


@pytest.mark.django_db
def test_switched_off_and_a_value_is_a_400_with_the_reason(member: User) -> None:
    strategy = StrategyFactory.create(user=member)
    trader = TraderFactory.create(strategy=strategy, user=member, name="T")
    response = _client(member).post(
        reverse("trading:trader_edit", args=[trader.pk]),
        {
            "name": "T",
            "strategy": strategy.pk,
            "stop_distance": "5",
            "stop_unit": "ticks",
            "switched_off": ["stop"],
        },
    )
    assert response.status_code == 400
    assert "Stop is switched off and also given a value" in response.content.decode()
    trader.refresh_from_db()
    assert trader.switched_off == [] and trader.stop_distance is None


@pytest.mark.django_db(transaction=True)
def test_an_entry_with_the_stop_switched_off_places_no_stop(
    ui_account: TraderAccount, sim: Any
) -> None:
    Trader.objects.filter(pk=ui_account.trader_id).update(switched_off=["stop"])
    received = signal_receive(
        strategy=ui_account.trader.strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode(),
    )
    signal_execute(signal_id=received.signal.pk)
    assert len(working_orders(sim)) == 1  # the take-profit only
    roles = sorted(Order.objects.filter(signal=received.signal).values_list("role", flat=True))
    assert roles == ["entry", "take_profit"]
