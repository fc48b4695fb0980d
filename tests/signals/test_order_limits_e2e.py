"""Order-size limits through the real path: webhook service -> executor -> engine -> simulator.

Issue 9 §3: an alert quantity of 10,000 with no max contracts was traded as 10,000 contracts.
The platform's safety ceiling (ORDER_QTY_CEILING, per root ORDER_QTY_CEILING_BY_ROOT) refuses
it and the outcome says so; a strategy's alert_quantity_max caps what an alert may ask for.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.signals.helpers import only_outcome, position, send, working
from trading.models import Order, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alert_sized(strategy: Strategy, trader_account: TraderAccount, sim: Any) -> Strategy:
    """The strategy lets the alert's quantity set the size; the account has no max contracts."""
    assert trader_account.max_contracts is None
    Strategy.objects.filter(pk=strategy.pk).update(alert_may_set_quantity=True)
    sim.control.set_price("MNQZ6", "18000.00")
    return strategy


def test_an_alert_quantity_of_10000_is_refused_by_the_platform_ceiling(
    alert_sized: Strategy, sim: Any
) -> None:
    outcome = only_outcome(send(alert_sized, action="buy", ticker="MNQZ2026", quantity=10_000))
    assert outcome.decision == "blocked"
    assert (
        "refused: 10000 contracts is over the platform's safety ceiling of 100 per order for "
        "MNQ (ORDER_QTY_CEILING)" in outcome.reason
    )
    assert position(sim) == 0
    assert working(sim) == []
    assert sim.control.state()["orders"] == []  # nothing ever reached the simulator
    assert not Order.objects.filter(outcome=outcome).exists()


def test_a_per_root_ceiling_applies_to_its_root_only(
    alert_sized: Strategy, sim: Any, settings: Any
) -> None:
    settings.ORDER_QTY_CEILING_BY_ROOT = {"MNQ": 2, "ES": 50}
    refused = only_outcome(send(alert_sized, action="buy", ticker="MNQZ2026", quantity=3))
    assert refused.decision == "blocked"
    assert "ceiling of 2 per order for MNQ (ORDER_QTY_CEILING_BY_ROOT)" in refused.reason
    assert position(sim) == 0
    opened = only_outcome(send(alert_sized, action="buy", ticker="MNQZ2026", quantity=2, id="b"))
    assert opened.decision == "open", opened.reason
    assert position(sim) == 2


def test_alert_quantity_max_caps_what_the_alert_asks_for(alert_sized: Strategy, sim: Any) -> None:
    Strategy.objects.filter(pk=alert_sized.pk).update(alert_quantity_max=2)
    outcome = only_outcome(send(alert_sized, action="buy", ticker="MNQZ2026", quantity=50))
    assert outcome.decision == "open", outcome.reason
    assert "alert quantity 50 reduced to 2 by alert_quantity_max" in outcome.reason
    assert position(sim) == 2
