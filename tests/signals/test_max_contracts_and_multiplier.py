"""Max contracts and the multiplier through the model-to-engine mapping, end to end: the trader
account's form (what the user types) -> TraderAccount -> `trading.execution` -> the engine ->
the simulator. 0 is a cap of zero (no order, and the outcome says why, D41); empty is no cap
(D37); the multiplier scales the entry size.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.signals.helpers import only_outcome, position, send, working
from trading.models import Order, SignalOutcome, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def _save_account_form(client: Client, account: TraderAccount, **fields: str) -> None:
    response = client.post(f"/trading/trader-accounts/{account.pk}/", {"enabled": "on", **fields})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def two_contracts(strategy: Strategy) -> Strategy:
    Strategy.objects.filter(pk=strategy.pk).update(entry_size=2)
    return strategy


def _buy(strategy: Strategy) -> SignalOutcome:
    return only_outcome(send(strategy, action="buy", ticker="MNQZ6"))


def test_max_contracts_0_places_no_order_and_says_so(
    trader_account: TraderAccount, two_contracts: Strategy, owner_client: Client, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    _save_account_form(owner_client, trader_account, multiplier="1.5", max_contracts="0")
    trader_account.refresh_from_db()
    assert trader_account.max_contracts == 0

    outcome = _buy(two_contracts)
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "blocked")
    assert outcome.reason == "not opening long: at max contracts (max_contracts=0, position flat)"
    assert position(sim) == 0
    assert sim.control.state()["orders"] == []
    assert not Order.objects.filter(outcome=outcome).exists()


@pytest.mark.parametrize(
    ("max_contracts", "expected", "how"),
    [
        pytest.param("", 3, "entry_size=2 x multiplier 1.500 = 3", id="empty-is-no-cap"),
        pytest.param(
            "2",
            2,
            "entry_size=2 x multiplier 1.500 = 3, reduced to 2 by max_contracts=2",
            id="a-cap-reduces",
        ),
    ],
)
def test_the_multiplier_sizes_the_entry_and_only_a_number_caps_it(
    trader_account: TraderAccount,
    two_contracts: Strategy,
    owner_client: Client,
    sim: Any,
    max_contracts: str,
    expected: int,
    how: str,
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    _save_account_form(owner_client, trader_account, multiplier="1.5", max_contracts=max_contracts)

    outcome = _buy(two_contracts)
    assert (outcome.status, outcome.decision) == (SignalOutcome.Status.DONE, "open"), outcome.reason
    assert how in outcome.reason
    assert position(sim) == expected
    entry = Order.objects.get(outcome=outcome, role="entry")
    assert entry.qty == expected
    versions = {v["orderId"]: v for v in sim.control.state()["orderVersions"]}
    assert sorted(versions[o["id"]]["orderQty"] for o in working(sim)) == [expected, expected]
