"""The demo history end to end: a simulator started with ``--demo-history-days`` reaches the
database only as the streams process does it (the user socket's sync snapshot applied by
``mirror_apply``), and the trades are built from those fills with the simulator's P&L."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Subaccount
from analytics.models import Trade
from tests.sim_fixtures import SimulatorServer, start_simulator
from tests.trading.test_mirror import apply_all, stream_events
from trading.models import CashBalance, Fill, Order, Position

pytestmark = pytest.mark.django_db(transaction=True)

DAYS = 3
ACCOUNTS = "DEMO1001,DEMO1002,DEMO1003,DEMO1004"


@pytest.fixture(scope="module")
def history_server() -> Iterator[SimulatorServer]:
    with start_simulator(demo_history_days=DAYS, demo_accounts=ACCOUNTS) as server:
        yield server


@pytest.fixture
def sim(history_server: SimulatorServer) -> SimulatorServer:
    """This module's simulator in place of the shared one (conftest's fixtures use it)."""
    return history_server


def test_the_streams_sync_brings_the_history_in_and_trades_carry_its_pnl(
    subaccounts: list[Subaccount], sim: Any
) -> None:
    state = sim.control.state()
    history = state["history"]
    assert len(history["days"]) == DAYS and history["fills"] == len(state["fills"]) > 0
    assert {s.name for s in subaccounts} == set(ACCOUNTS.split(","))

    events = stream_events(
        sim, during=lambda: None, until=lambda ev: any(e.entity_type == "sync" for e in ev)
    )
    sync = [e for e in events if e.entity_type == "sync"]
    apply_all(subaccounts[0].connection_id, sync)  # as the streams process applies its sync

    fills = Fill.objects.all()
    assert fills.count() == history["fills"]
    now = timezone.now()
    for filled_at in fills.values_list("filled_at", flat=True):  # the broker's times
        assert now - timedelta(days=DAYS + 8) < filled_at < now
        assert filled_at.weekday() < 5  # 14:30-21:00 UTC: the same day as in New York
    assert not Order.objects.filter(external=False).exists()  # all external, none ours
    assert set(Position.objects.values_list("net_pos", flat=True)) == {0}

    # the trades were built by the fills' signal (from the snapshot), no rebuild asked
    trades = Trade.objects.all()
    assert trades.exists() and not trades.filter(closed_at__isnull=True).exists()
    assert history["trades"] == trades.count()
    for subaccount in subaccounts:
        net = trades.filter(subaccount=subaccount).aggregate(net=Sum("net_pnl"))["net"]
        expected = Decimal(str(history["realizedPnL"][subaccount.name]))
        assert net == expected, subaccount.name
        cash = CashBalance.objects.get(subaccount=subaccount)
        assert cash.amount - Decimal("50000") == expected and cash.realized_pnl == 0
    assert trades.filter(net_pnl__gt=0).exists() and trades.filter(net_pnl__lt=0).exists()

    before = (Fill.objects.count(), Trade.objects.count())
    apply_all(subaccounts[0].connection_id, sync)  # the next resync: nothing twice
    assert (Fill.objects.count(), Trade.objects.count()) == before
