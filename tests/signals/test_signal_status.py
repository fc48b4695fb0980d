"""A signal's status summarises its accounts: never "Done" while an account failed (issue 9,
item 3: an unknown root was answered "accepted" and shown as a green "Done" while every
account failed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import TraderAccountFactory
from trading.execution import signal_execute
from trading.models import Signal, SignalOutcome, Strategy, TraderAccount
from trading.services import signal_receive
from trading.signal_status import signal_status_of

S = SignalOutcome.Status


@pytest.mark.parametrize(
    ("outcomes", "signal"),
    [
        ([], Signal.Status.DONE),  # no account to act on: said in the rejection reason
        ([S.DONE, S.DONE], Signal.Status.DONE),
        ([S.DONE, S.FAILED], Signal.Status.PARTLY_FAILED),
        ([S.SAFETY_BLOCK, S.DONE], Signal.Status.PARTLY_FAILED),
        ([S.FAILED, S.SAFETY_BLOCK], Signal.Status.FAILED),
        ([S.FAILED], Signal.Status.FAILED),
        ([S.IN_DOUBT, S.FAILED], Signal.Status.IN_DOUBT),
        ([S.IN_DOUBT, S.DONE], Signal.Status.IN_DOUBT),
        ([S.PENDING, S.DONE], Signal.Status.EXECUTING),
    ],
)
def test_the_signal_status_table(outcomes: list[str], signal: str) -> None:
    assert signal_status_of(outcomes) == signal


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("refused", "expected"), [(1, "partly_failed"), (2, "failed")])
def test_accounts_refused_by_the_broker_make_the_signal_partly_failed_or_failed(
    strategy: Strategy,
    trader_account: TraderAccount,
    subaccounts: list[Any],
    sim: Any,
    owner_client: Any,
    refused: int,
    expected: str,
) -> None:
    TraderAccountFactory.create(trader=trader_account.trader, subaccount=subaccounts[1])
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(
        reject_orders={
            "count": refused,
            "failureReason": "MaxPosLimitReached",
            "failureText": "Insufficient buying power",
        }
    )
    received = signal_receive(
        strategy=strategy, raw=json.dumps({"action": "buy", "ticker": "MNQZ6"}).encode()
    )
    signal = signal_execute(signal_id=received.signal.pk)
    assert signal.status == expected
    assert signal.outcomes.filter(status=S.FAILED).count() == refused
    page = owner_client.get("/trading/signals/").content.decode()
    assert f'badge badge-{expected}"' in page
    assert 'badge badge-done">Done' not in page
