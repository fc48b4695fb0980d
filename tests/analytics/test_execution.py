"""Execution quality: the definitions (analytics/execution.py), then the figures of real
signals at the simulator, whose fills reach the mirror through the user stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from analytics.execution import EntrySample, execution_of, percentile, rejects_by_reason
from analytics.selectors_execution import (
    SignalScope,
    execution_quality,
    rejects_by_broker_reason,
)
from tests.factories import UserFactory
from tests.signals.helpers import send
from tests.trading.test_mirror import apply_all, stream_events
from trading.models import Strategy, TraderAccount

T0 = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
MNQ = {"tick_size": Decimal("0.25"), "value_per_point": Decimal(2)}


def entry(side: int, alert: str | None, fill: str, *, accept_ms: int, fill_ms: int) -> EntrySample:
    return EntrySample(
        side=side,
        qty=2,
        alert_price=None if alert is None else Decimal(alert),
        fill_price=Decimal(fill),
        received_at=T0,
        accepted_at=T0 + timedelta(milliseconds=accept_ms),
        first_fill_at=T0 + timedelta(milliseconds=fill_ms),
        **MNQ,
    )


def test_slippage_costs_positive_for_a_buy_above_and_a_sell_below_the_alert() -> None:
    summary = execution_of(
        [
            entry(1, "100", "100.50", accept_ms=20, fill_ms=30),  # buy 2 ticks worse
            entry(-1, "100", "100.25", accept_ms=40, fill_ms=60),  # sell 1 tick better
            entry(1, None, "101", accept_ms=30, fill_ms=45),  # no alert price: not compared
        ],
        rejects=1,
    )
    assert (summary.entries, summary.priced, summary.rejects) == (3, 2, 1)
    assert summary.slippage_ticks_mean == Decimal("0.5")
    # 2 contracts: +0.5 point x $2 x 2 = $2 paid, -0.25 x $2 x 2 = $1 back.
    assert summary.slippage_dollars == Decimal(1)
    assert (summary.accept_ms_p50, summary.accept_ms_p95) == (30, 40)
    assert (summary.fill_ms_p50, summary.fill_ms_p95) == (45, 60)


def test_no_entries_gives_no_figures_not_zeros() -> None:
    summary = execution_of([])
    assert (summary.slippage_ticks_p50, summary.accept_ms_p95, summary.slippage_dollars) == (
        None,
        None,
        None,
    )
    assert rejects_by_reason(["Locked", " ", "Locked", "Margin"]) == [
        ("Locked", 2),
        ("(the broker gave no reason)", 1),
        ("Margin", 1),
    ]


@given(values=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1))
def test_a_percentile_is_a_sample_and_p50_never_above_p95(values: list[int]) -> None:
    floats = [float(v) for v in values]
    p50, p95 = percentile(floats, 0.5), percentile(floats, 0.95)
    assert p50 is not None and p95 is not None
    assert p50 in floats and p95 in floats and p50 <= p95
    assert percentile(floats, 1.0) == max(floats)


@pytest.mark.django_db(transaction=True)
def test_a_signals_slippage_latency_and_a_broker_reject_at_the_simulator(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "20001")  # the alert said 20000: a buy fills 4 ticks worse
    events = stream_events(
        sim,
        during=lambda: send(strategy, action="buy", ticker="MNQ1!", price="20000"),
        until=lambda ev: any(e.entity_type == "fill" for e in ev),
    )
    apply_all(trader_account.subaccount.connection_id, events)
    sim.control.faults(
        reject_orders={"count": 1, "failureReason": "TradingLocked", "failureText": "Locked"}
    )
    send(strategy, action="sell", ticker="MNQ1!", price="20001")  # the reversal is refused

    user, zone = strategy.user, "America/New_York"
    today = timezone.now().astimezone(UTC).date()
    scope = SignalScope(user=user, zone=zone, start=today - timedelta(days=1), end=today)
    (row,) = execution_quality(scope=scope)
    s = row.summary
    assert (row.strategy, row.account) == (strategy.name, trader_account.subaccount.name)
    assert (s.entries, s.priced, s.rejects) == (1, 1, 1)
    assert (s.slippage_ticks_p50, s.slippage_dollars) == (Decimal(4), Decimal(2))
    assert s.accept_ms_p50 is not None and 0 < s.accept_ms_p50 < 5_000
    assert s.fill_ms_p50 is not None and s.fill_ms_p50 < 5_000
    (reason,) = rejects_by_broker_reason(scope=SignalScope(user=user, zone=zone))
    assert "Locked" in reason[0] and reason[1] == 1
    # Another subscriber, and days before: nothing.
    assert execution_quality(scope=SignalScope(user=UserFactory.create(), zone=zone)) == []
    days_before = SignalScope(user=user, zone=zone, end=today - timedelta(days=2))
    assert execution_quality(scope=days_before) == []


@pytest.mark.django_db(transaction=True)
def test_the_execution_page_shows_the_figures_and_refuses_reversed_dates(
    trader_account: TraderAccount, strategy: Strategy, sim: Any, client: Any
) -> None:
    sim.control.set_price("MNQZ6", "20000.5")
    events = stream_events(
        sim,
        during=lambda: send(strategy, action="buy", ticker="MNQ1!", price="20000"),
        until=lambda ev: any(e.entity_type == "fill" for e in ev),
    )
    apply_all(trader_account.subaccount.connection_id, events)
    client.force_login(strategy.user)
    page = client.get("/performance/execution/")
    assert page.status_code == 200
    html = page.content.decode()
    assert strategy.name in html and trader_account.subaccount.name in html
    assert "$1.00" in html  # 2 ticks worse on 1 MNQ contract
    assert "No order refused" in html
    refused = client.get("/performance/execution/?start=2026-12-05&end=2026-12-01")
    assert refused.status_code == 400
    assert "swap them" in refused.content.decode()
    client.force_login(UserFactory.create())
    assert strategy.name not in client.get("/performance/execution/").content.decode()
