"""D29 — take-profit orders piled up five deep after adds.

Invariant: after any add, exactly one set of exits per subaccount+symbol (cancel before place),
sized for the whole position.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import position, send, working
from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_adds_leave_one_set_of_exits_for_the_whole_position(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    Strategy.objects.filter(pk=strategy.pk).update(on_same_direction="add")
    for n in range(4):
        send(strategy, action="buy", ticker="MNQZ6", id=f"add-{n}")
        sim.control.step("MNQZ6", 2)
    assert position(sim) == 4
    exits = working(sim)
    versions = {v["orderId"]: v for v in sim.control.state()["orderVersions"]}
    kinds = [versions[o["id"]]["orderType"] for o in exits]
    assert kinds.count("Limit") == 1 and kinds.count("Stop") == 1  # one take-profit, one stop
    assert all(versions[o["id"]]["orderQty"] == 4 for o in exits)
