"""max_daily_loss acts on the broker's own figure: the account's realized P&L of the day from
Tradovate's cash balance snapshot. Entries are blocked once the loss reaches the limit; a close
is never blocked (filters never block exits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.signals.helpers import only_outcome, outside_order, position, send
from trading.brokers.services import broker_for
from trading.models import SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def _lose_20_dollars(sim: Any) -> None:
    """Long 1 MNQ at 18000, out at 17990: 10 points x $2 = $20 realized loss today."""
    sim.control.set_price("MNQZ6", "18000.00")
    outside_order(sim, "Buy", 1)
    sim.control.set_price("MNQZ6", "17990.00")
    outside_order(sim, "Sell", 1)
    assert position(sim) == 0


def test_the_broker_reports_the_days_realized_loss(trader_account: TraderAccount, sim: Any) -> None:
    _lose_20_dollars(sim)
    broker = broker_for(connection=trader_account.subaccount.connection)
    try:
        pnl = broker.day_pnl(account_id=trader_account.subaccount.broker_account_id)
    finally:
        broker.close()
    assert pnl.realized == Decimal("-20")
    assert pnl.realized_loss == Decimal("20")


def test_an_entry_is_blocked_once_the_days_loss_reaches_the_limit(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _lose_20_dollars(sim)
    Strategy.objects.filter(pk=strategy.pk).update(max_daily_loss=Decimal("20"))
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ2026"))
    assert outcome.status == SignalOutcome.Status.DONE
    assert outcome.decision == "blocked", outcome.reason
    assert "daily loss limit reached: lost 20" in outcome.reason
    assert "max_daily_loss=20" in outcome.reason
    assert position(sim) == 0


def test_below_the_limit_the_entry_goes_ahead(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _lose_20_dollars(sim)
    Strategy.objects.filter(pk=strategy.pk).update(max_daily_loss=Decimal("20.50"))
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ2026"))
    assert outcome.decision == "open", outcome.reason
    assert outcome.broker_snapshot is not None
    assert Decimal(outcome.broker_snapshot["realized_loss_today"]) == Decimal("20")
    assert position(sim) == 1


def test_a_close_is_never_blocked_by_the_daily_loss(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    _lose_20_dollars(sim)
    outside_order(sim, "Buy", 1)  # a position opened elsewhere, after the loss
    Strategy.objects.filter(pk=strategy.pk).update(max_daily_loss=Decimal("5"))
    outcome = only_outcome(send(strategy, action="close", ticker="MNQZ2026"))
    assert outcome.decision == "close", outcome.reason
    assert position(sim) == 0
