"""Flatten after the cutoff: the window's end makes one CLOSE signal for that trader alone,
executed through the normal path; once per window end; nothing for traders without it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TraderAccountFactory, TraderFactory
from tests.signals.helpers import only_outcome, position, send
from trading.cutoff import cutoff_due, cutoff_signals_create
from trading.execution import signal_execute
from trading.models import Signal, SignalOutcome, Strategy, Trader, TraderAccount
from trading.settings_resolution import TimeWindow

NY = "America/New_York"
DAY = [TimeWindow(time(9, 30), time(15, 45))]


def _ny(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=ZoneInfo(NY))


def _today_ny(hour: int, minute: int) -> datetime:
    return datetime.now(ZoneInfo(NY)).replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.mark.parametrize(
    ("windows", "now", "key"),
    [
        (DAY, _ny(12, 0), None),  # inside the window
        (DAY, _ny(15, 45), "2026-11-20T15:45"),  # the end is exclusive: due at once
        (DAY, _ny(16, 10), "2026-11-20T15:45"),
        (DAY, _ny(16, 16), None),  # more than 30 minutes late: not acted on
        (DAY, _ny(9, 0), None),  # before the window, yesterday's end long gone
        (
            [TimeWindow(time(9, 30), time(11, 0)), TimeWindow(time(13, 0), time(15, 45))],
            _ny(11, 5),
            "2026-11-20T11:00",
        ),
        ([TimeWindow(time(18, 0), time(2, 0))], _ny(2, 1), "2026-11-20T02:00"),  # crosses midnight
        ([TimeWindow(time(18, 0), time(2, 0))], _ny(23, 0), None),
    ],
)
def test_cutoff_due(windows: Any, now: datetime, key: str | None) -> None:
    due = cutoff_due(windows=windows, zone=NY, now=now)
    assert (due.key if due else None) == key


def test_cutoff_due_reads_the_owners_zone() -> None:
    # 20:50 UTC is 15:50 in New York (EST): due there, not in London (20:50, long after).
    now = datetime(2026, 11, 20, 20, 50, tzinfo=UTC)
    assert cutoff_due(windows=DAY, zone=NY, now=now) is not None
    assert cutoff_due(windows=DAY, zone="Europe/London", now=now) is None


@pytest.mark.django_db(transaction=True)
def test_the_cutoff_closes_the_traders_position_once(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    assert only_outcome(send(strategy, action="buy", ticker="MNQZ2026")).decision == "open"
    assert position(sim) == 1
    trader = trader_account.trader
    trader.user.time_zone = NY
    trader.user.save(update_fields=["time_zone"])
    Trader.objects.filter(pk=trader.pk).update(
        flatten_after_cutoff=True, time_windows=[["09:30", "15:45"]]
    )
    # Another trader of the same strategy, without the cutoff, on the other account.
    other = TraderFactory.create(strategy=strategy, user=strategy.user, name="Keeps it")
    TraderAccountFactory.create(trader=other, subaccount=trader_account.subaccount)
    now = _today_ny(15, 46)

    (signal,) = cutoff_signals_create(now=now)
    assert signal.for_trader_id == trader.pk
    assert signal.action == "close" and signal.symbol == "MNQZ6"
    assert "flatten after the cutoff 15:45 America/New_York" in signal.raw_body
    signal = signal_execute(signal_id=signal.pk)
    (outcome,) = signal.outcomes.all()  # this trader's account only, not the other trader's
    assert outcome.trader_account_id == trader_account.pk
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "close")
    assert position(sim) == 0
    assert [o for o in sim.control.state()["orders"] if o["ordStatus"] == "Working"] == []

    assert cutoff_signals_create(now=now + timedelta(seconds=30)) == []  # once per window end
    assert Signal.objects.filter(for_trader=trader).count() == 1


@pytest.mark.django_db
def test_no_cutoff_signal_without_the_setting(trader_account: TraderAccount) -> None:
    trader = trader_account.trader
    trader.user.time_zone = NY
    trader.user.save(update_fields=["time_zone"])
    SignalOutcome.objects.create(
        signal=Signal.objects.create(strategy=trader.strategy, idempotency_key="k", raw_body="{}"),
        trader_account=trader_account,
        subaccount=trader_account.subaccount,
        symbol="MNQZ6",
        started_at=datetime.now(UTC),
    )
    Trader.objects.filter(pk=trader.pk).update(time_windows=[["09:30", "15:45"]])
    assert cutoff_signals_create(now=_today_ny(15, 50)) == []
    Trader.objects.filter(pk=trader.pk).update(flatten_after_cutoff=True)
    (signal,) = cutoff_signals_create(now=_today_ny(15, 50))
    assert signal.symbol == "MNQZ6"


@pytest.mark.django_db
def test_a_subscribers_cutoff_signal_is_not_shown_to_the_strategy_vendor(
    trader_account: TraderAccount,
) -> None:
    from django.test import Client
    from django.urls import reverse

    from tests.factories import UserFactory

    vendor = UserFactory.create()
    strategy = trader_account.trader.strategy
    Strategy.objects.filter(pk=strategy.pk).update(user=vendor, visibility="public")
    subscriber = trader_account.trader.user
    signal = Signal.objects.create(
        strategy=strategy,
        for_trader=trader_account.trader,
        idempotency_key="cutoff:x",
        raw_body='{"action": "close"}',
        action="close",
        symbol="MNQZ6",
    )
    detail = reverse("trading:signal_detail", args=[signal.pk])
    as_vendor, as_subscriber = Client(), Client()
    as_vendor.force_login(vendor)
    as_subscriber.force_login(subscriber)
    assert as_vendor.get(detail).status_code == 404
    assert (
        f"/trading/signals/{signal.pk}/"
        not in as_vendor.get(reverse("trading:signal_list")).content.decode()
    )
    assert as_subscriber.get(detail).status_code == 200
