"""Trading windows are read in the trader's own time zone (``User.time_zone``), end to end:
the Trader's stored window -> `trading.execution` -> the engine -> an entry at the simulator,
or none.

The strategy belongs to a vendor in UTC and the trader follows it from New York, so a window
read in UTC, or in the vendor's zone, lets through what it should block and blocks what it
should let through. The signal's receipt time is set on the stored Signal (the engine's clock
is ``received_at``), so the tests do not depend on the hour they run at.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from accounts.models import Subaccount, User
from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory, UserFactory
from tests.signals.helpers import only_outcome, position, working
from trading.execution import signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = "America/New_York"


@pytest.fixture
def vendor_strategy(db: Any) -> Strategy:
    """A strategy whose owner lives in UTC (the subscriber's zone must win, not this one)."""
    vendor = UserFactory.create(time_zone="UTC")
    return StrategyFactory.create(
        user=vendor,
        name="Vendor breakout",
        visibility=Strategy.Visibility.PUBLIC,
        entry_size=1,
        on_same_direction="ignore",
        take_profits=[{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
        stop_distance="10",
        stop_unit="ticks",
    )


@pytest.fixture
def new_yorker(
    member: User, subaccounts: list[Subaccount], vendor_strategy: Strategy, settings: Any
) -> User:
    """The subscriber, in New York, trading 09:30-11:30 on DEMO1001."""
    User.objects.filter(pk=member.pk).update(time_zone=NEW_YORK)
    trader = TraderFactory.create(
        strategy=vendor_strategy, user=member, time_windows=[["09:30", "11:30"]]
    )
    TraderAccountFactory.create(trader=trader, subaccount=subaccounts[0])
    # The receipt times below are fixed dates: the age limit must not expire them.
    settings.SIGNAL_MAX_AGE_SECONDS = 10 * 365 * 86400
    return member


def _execute_received_at(strategy: Strategy, when: datetime) -> Signal:
    received = signal_receive(
        strategy=strategy, raw=json.dumps({"action": "buy", "ticker": "MNQZ6"}).encode()
    )
    assert received.status == "accepted", received.reason
    Signal.objects.filter(pk=received.signal.pk).update(received_at=when)
    return signal_execute(signal_id=received.signal.pk)


@pytest.mark.parametrize(
    "when",
    [
        # 10:00 in New York in winter (UTC-5) = 15:00 UTC: outside 09:30-11:30 read in UTC.
        pytest.param(datetime(2026, 1, 15, 15, 0, tzinfo=UTC), id="winter-10:00-new-york"),
        # 10:00 in New York in summer (UTC-4) = 14:00 UTC: a fixed -5 h offset is wrong here.
        pytest.param(datetime(2026, 7, 15, 14, 0, tzinfo=UTC), id="summer-10:00-new-york"),
    ],
)
def test_inside_the_window_in_new_york_but_outside_in_utc_enters(
    new_yorker: User, vendor_strategy: Strategy, sim: Any, when: datetime
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    outcome = only_outcome(_execute_received_at(vendor_strategy, when))
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "open"), outcome.reason
    assert position(sim) == 1
    assert len(working(sim)) == 2  # its take-profit and stop
    assert Order.objects.get(outcome=outcome, role="entry").state == Order.State.FILLED


def test_inside_the_window_in_utc_but_outside_in_new_york_places_nothing(
    new_yorker: User, vendor_strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    when = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # 05:00 in New York
    outcome = only_outcome(_execute_received_at(vendor_strategy, when))
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "blocked")
    assert outcome.reason == (
        "not opening long: outside the trading windows (09:30-11:30 America/New_York; "
        "it is 05:00:00)"
    )
    assert position(sim) == 0
    assert sim.control.state()["orders"] == []  # nothing reached the broker
    assert not Order.objects.filter(outcome=outcome).exists()
