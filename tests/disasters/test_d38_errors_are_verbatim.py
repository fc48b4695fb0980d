"""D38 — "Unknown error" masked every failure for weeks.

Invariant: every failure stores the exception type, its message and the broker's response,
and the subscriber sees them on the outcome.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, send
from trading.models import SignalOutcome, Strategy, Trader, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rejected_entry_keeps_tradovates_reason_and_text(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(
        reject_orders={
            "count": 1,
            "failureReason": "MaxPosLimitReached",
            "failureText": "Max position limit of 0 contracts reached for DEMO1001",
        }
    )
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6"))
    assert outcome.status == SignalOutcome.Status.FAILED
    assert outcome.error_type == "BrokerRejected"
    assert "MaxPosLimitReached" in outcome.error_message
    assert outcome.broker_response == "Max position limit of 0 contracts reached for DEMO1001"
    assert "Unknown error" not in outcome.error_message


def test_an_unknown_symbol_is_named(trader_account: TraderAccount, strategy: Strategy) -> None:
    """At the door (issue 9: rejected at intake, never accepted and failed on every account)."""
    received = signal_receive(strategy=strategy, raw=b'{"action": "buy", "ticker": "XYZZ6"}')
    assert received.status == "rejected"
    assert "Unknown contract root 'XYZ'" in received.signal.rejection_reason
    assert not received.signal.outcomes.exists()


def test_an_unknown_symbol_set_on_the_trader_is_named_on_its_outcome(
    trader_account: TraderAccount, strategy: Strategy
) -> None:
    """A symbol override stored before the forms checked it: the account's outcome names it."""
    Trader.objects.filter(pk=trader_account.trader_id).update(symbol_override="XYZZ6")
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6"))
    assert outcome.status == SignalOutcome.Status.FAILED
    assert outcome.error_type == "UnknownContractError"
    assert "Unknown contract root 'XYZ'" in outcome.error_message
