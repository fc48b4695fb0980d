"""D04 — a restructured try block left ``failed_accounts`` undefined: 30+ trades failed.

Invariant: one account's failure never stops the others, and every branch of the executor
records an outcome. Three accounts; the middle one's broker refuses the login.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Subaccount
from tests.factories import TraderAccountFactory
from tests.signals.helpers import send
from trading.brokers.services import broker_connection_create
from trading.models import SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_accounts_middle_one_broken(
    trader_account: TraderAccount, strategy: Strategy, subaccounts: list[Subaccount], sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    broken = broker_connection_create(
        user=strategy.user,
        label="Broken",
        broker="simulator",
        username="demo",
        password="wrong-password",
    )
    broken_sub = Subaccount.objects.create(
        connection=broken, broker_account_id=1001, name="BROKEN1"
    )
    middle = TraderAccountFactory.create(trader=trader_account.trader, subaccount=broken_sub)
    last = TraderAccountFactory.create(trader=trader_account.trader, subaccount=subaccounts[1])
    signal = send(strategy, action="buy", ticker="MNQZ6")
    outcomes = {o.trader_account_id: o for o in signal.outcomes.all()}
    assert outcomes[trader_account.pk].status == SignalOutcome.Status.DONE
    assert outcomes[last.pk].status == SignalOutcome.Status.DONE
    failed = outcomes[middle.pk]
    assert failed.status == SignalOutcome.Status.SAFETY_BLOCK
    assert "Incorrect username or password" in failed.reason
    assert failed.error_type == "BrokerAuthError"
