"""Billing's pause really stops trading, end to end: Whop says the membership ended (a signed
webhook) -> billing's pause -> ``trading.services.traders_disable_for_user`` -> the user's
traders are off -> the next alert places nothing at the simulator.

Nothing is faked on the way: the trading module billing calls is the real one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import BrokerConnection, Subaccount, User
from billing.models import TradingPause
from tests.billing.whop_fixtures import (
    WEBHOOK_URL,
    MembershipFactory,
    current_event,
    elite,
    membership_data,
    signed_headers,
)
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory, UserFactory
from tests.signals.helpers import position
from trading.execution import signal_execute
from trading.models import Signal, Strategy, Trader
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)

WHOP_ID = "mem_pause_1"


@pytest.fixture
def whop_member(db: Any) -> User:
    """A buyer whose only membership is a Whop one (so its end leaves no other access)."""
    user = UserFactory.create()
    MembershipFactory.create(user=user, plan=elite(), whop_id=WHOP_ID)
    return user


@pytest.fixture
def trading_strategy(whop_member: User, sim_settings: Any) -> Strategy:
    """The member's strategy with one trader on the simulator's DEMO1001."""
    from trading.brokers.services import broker_connection_create, broker_connection_test

    connection = broker_connection_create(
        user=whop_member,
        label="Paper",
        broker=BrokerConnection.Broker.SIMULATOR,
        username="demo",
        password="demo-password",
    )
    subaccounts: list[Subaccount] = broker_connection_test(connection=connection)
    strategy = StrategyFactory.create(
        user=whop_member, entry_size=1, on_same_direction="ignore", on_opposite_direction="reverse"
    )
    trader = TraderFactory.create(strategy=strategy, user=whop_member)
    TraderAccountFactory.create(trader=trader, subaccount=subaccounts[0])
    return strategy


def _signal(strategy: Strategy, **fields: Any) -> Signal:
    received = signal_receive(strategy=strategy, raw=json.dumps(fields).encode())
    assert received.status == "accepted", received.reason
    return signal_execute(signal_id=received.signal.pk)


def _whop(event_type: str, user: User, status: str) -> None:
    body = current_event(
        event_type, membership_data(whop_id=WHOP_ID, email=user.email, status=status)
    )
    response = Client(enforce_csrf_checks=True).post(
        WEBHOOK_URL, data=body, content_type="application/json", **signed_headers(body)
    )
    assert response.status_code == 200, response.content


def test_a_membership_ending_switches_the_traders_off_and_the_next_alert_places_nothing(
    whop_member: User, trading_strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    # While the membership is valid the set-up trades (so "nothing" below means something).
    opened = _signal(trading_strategy, action="buy", ticker="MNQZ6", id="before")
    assert opened.outcomes.get().decision == "open"
    _signal(trading_strategy, action="close", ticker="MNQZ6", id="flat")
    assert position(sim) == 0
    orders_before = len(sim.control.state()["orders"])

    _whop("membership.deactivated", whop_member, status="expired")

    after = _signal(trading_strategy, action="buy", ticker="MNQZ6", id="after")
    assert len(sim.control.state()["orders"]) == orders_before  # nothing reached the broker
    assert position(sim) == 0
    assert after.status == Signal.Status.DONE
    assert not after.outcomes.exists()
    assert after.rejection_reason == (
        "No enabled trader account follows this strategy: nothing was sent."
    )
    trader = Trader.objects.get(user=whop_member)
    assert not trader.enabled
    assert WHOP_ID in trader.disabled_reason
    pause = TradingPause.objects.get(user=whop_member, ended_at=None)
    assert pause.traders_disabled == 1


def test_a_membership_coming_back_ends_the_pause_and_the_traders_stay_off(
    whop_member: User, trading_strategy: Strategy, sim: Any
) -> None:
    """The user switches traders back on themselves: a renewal alone never starts trading."""
    sim.control.set_price("MNQZ6", "18000.00")
    _whop("membership.deactivated", whop_member, status="expired")
    _whop("membership.activated", whop_member, status="active")
    assert not TradingPause.objects.filter(user=whop_member, ended_at=None).exists()
    assert not Trader.objects.get(user=whop_member).enabled

    after = _signal(trading_strategy, action="buy", ticker="MNQZ6", id="renewed")
    assert not after.outcomes.exists()
    assert sim.control.state()["orders"] == []


def test_a_pause_with_nothing_listening_is_an_error_not_a_silent_zero(
    member: Any,
) -> None:
    """Billing no longer finds trading by a string import that returned 0 when its target was
    gone: with the receiver disconnected, pausing raises instead of reporting 0 traders."""
    from django.core.exceptions import ImproperlyConfigured

    from billing.services import trading_pause
    from billing.signals import trading_paused

    assert trading_paused.disconnect(dispatch_uid="trading.traders_disable")
    try:
        with pytest.raises(ImproperlyConfigured, match="trading_paused"):
            trading_pause(user=member, reason="test")
    finally:
        from trading.apps import _traders_disable

        trading_paused.connect(_traders_disable, dispatch_uid="trading.traders_disable")
