"""Z2 — the bot trusted its in-memory positions: 9x duplicate positions.

Invariant: before every entry the broker's positions and working orders are read; a position
opened outside Bracketeer (no record of ours) is seen and respected.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, outside_order, position, send
from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_brokers_position_decides_not_our_records(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    """A position opened outside Bracketeer (no record of ours) is seen and respected."""
    sim.control.set_price("MNQZ6", "18000.00")
    outside_order(sim, "Buy", 2)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQZ6"))
    assert outcome.decision == "ignored" and outcome.position_before == 2
    assert position(sim) == 2
