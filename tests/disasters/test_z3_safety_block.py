"""Z3 — orders were placed while the API was down (positions could not be read).
Z2 — in-memory positions were trusted: 9x duplicate positions.

Invariant: before every entry the broker's positions and working orders are read; if they
cannot be read, nothing is placed and the outcome says "safety block".
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, position, send
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


def test_the_brokers_position_decides_not_our_records(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    """A position opened outside Bracketeer (no record of ours) is seen and respected."""
    import httpx

    sim.control.set_price("MNQZ6", "18000.00")
    token = httpx.post(
        f"{sim.rest_url}/auth/accesstokenrequest",
        json={"name": "demo", "password": "demo-password"},
    ).json()
    httpx.post(
        f"{sim.rest_url}/order/placeorder",
        headers={"Authorization": f"Bearer {token['accessToken']}"},
        json={
            "accountId": 1001,
            "action": "Buy",
            "symbol": "MNQZ6",
            "orderQty": 2,
            "orderType": "Market",
        },
    )
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6"))
    assert outcome.decision == "ignored" and outcome.position_before == 2
    assert position(sim) == 2
