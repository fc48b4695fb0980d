"""Z3 — orders were placed while the API was down (positions could not be read).
Invariant: cannot verify positions -> no order; the outcome says "safety block".
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, send
from trading.models import SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_unreadable_positions_place_nothing(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(http_5xx={"count": 10, "status": 503, "endpoints": ["position/list"]})
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6"))
    assert outcome.status == SignalOutcome.Status.SAFETY_BLOCK
    assert outcome.reason.startswith("safety block: cannot verify position")
    assert outcome.error_type == "BrokerUnavailable"
    assert sim.control.counters()["orders_placed"] == 0
