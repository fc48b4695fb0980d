"""Signals per day at the boundary, end to end (Trader.max_signals_per_day -> `trading.execution`
-> the engine -> the simulator): N entries are carried out, the N+1th is blocked and reaches no
broker; the day starts at midnight in the trader's own time zone (``User.time_zone``).

An earlier entry is made through the real path, then its outcome row's ``decided_at`` (what the
count reads) is set to the trader's midnight or one second before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.signals.helpers import only_outcome, position, send
from trading.models import SignalOutcome, Strategy, Trader, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = "America/New_York"


@pytest.fixture
def adding(trader_account: TraderAccount, strategy: Strategy) -> TraderAccount:
    """Each buy is an entry (open, then add); the trader lives in New York."""
    Strategy.objects.filter(pk=strategy.pk).update(on_same_direction="add")
    user = trader_account.trader.user
    user.time_zone = NEW_YORK
    user.save(update_fields=["time_zone"])
    return trader_account


def _per_day(account: TraderAccount, limit: int) -> None:
    Trader.objects.filter(pk=account.trader_id).update(max_signals_per_day=limit)


def test_n_entries_are_carried_out_and_the_next_is_blocked(
    adding: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    _per_day(adding, 2)
    first = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="d1"))
    second = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="d2"))
    assert (first.decision, second.decision) == ("open", "add"), second.reason
    assert position(sim) == 2
    placed = len(sim.control.state()["orders"])

    third = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="d3"))
    assert (third.status, third.decision) == (SignalOutcome.Status.DONE, "blocked")
    assert "max_signals_per_day=2 reached (2 entries today)" in third.reason
    assert position(sim) == 2
    assert len(sim.control.state()["orders"]) == placed  # not one order more

    close = only_outcome(send(strategy, action="close", ticker="MNQZ6", id="d4"))
    assert close.decision == "close" and position(sim) == 0  # a close is never counted/blocked


def _trader_midnight() -> datetime:
    return (
        timezone.now()
        .astimezone(ZoneInfo(NEW_YORK))
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )


@pytest.mark.parametrize(
    ("offset_seconds", "counted"),
    [
        # At any hour one of these two disagrees with a day that starts at midnight UTC:
        # the trader's midnight is either before or after UTC's.
        pytest.param(0, True, id="at-the-traders-midnight-counts"),
        pytest.param(-1, False, id="a-second-before-is-yesterday"),
    ],
)
def test_the_day_starts_at_midnight_in_the_traders_zone(
    adding: TraderAccount, strategy: Strategy, sim: Any, offset_seconds: int, counted: bool
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    earlier = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="b1"))
    send(strategy, action="close", ticker="MNQZ6", id="b2")
    assert earlier.decision == "open" and position(sim) == 0
    SignalOutcome.objects.filter(pk=earlier.pk).update(
        decided_at=_trader_midnight() + timedelta(seconds=offset_seconds)
    )
    _per_day(adding, 1)

    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="b3"))
    if counted:
        assert outcome.decision == "blocked", outcome.reason
        assert "max_signals_per_day=1 reached (1 entries today)" in outcome.reason
        assert position(sim) == 0
    else:
        assert (outcome.status, outcome.decision) == ("done", "open"), outcome.reason
        assert position(sim) == 1


def test_a_signal_run_after_midnight_counts_against_the_day_it_was_received(
    adding: TraderAccount, strategy: Strategy, sim: Any, settings: Any
) -> None:
    """Received at 23:59:59 (trader's zone), executed — or resumed — after midnight: "today" is
    the day it was received, as its windows and cooldown are judged at receipt."""
    import json

    from trading.execution import signal_execute
    from trading.models import Signal
    from trading.services import signal_receive

    settings.SIGNAL_MAX_AGE_SECONDS = 10**6  # run late on purpose
    sim.control.set_price("MNQZ6", "18000.00")
    earlier = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="m1"))
    send(strategy, action="close", ticker="MNQZ6", id="m2")
    yesterday_late = _trader_midnight() - timedelta(seconds=1)
    SignalOutcome.objects.filter(pk=earlier.pk).update(
        decided_at=yesterday_late - timedelta(hours=12)
    )
    _per_day(adding, 1)
    received = signal_receive(
        strategy=strategy, raw=json.dumps({"action": "buy", "ticker": "MNQZ6"}).encode()
    )
    Signal.objects.filter(pk=received.signal.pk).update(received_at=yesterday_late)
    outcome = only_outcome(signal_execute(signal_id=received.signal.pk))
    assert outcome.decision == "blocked", outcome.reason
    assert "max_signals_per_day=1 reached (1 entries today)" in outcome.reason
    assert position(sim) == 0
