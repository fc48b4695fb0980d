"""D19 — a dozen stale "open" records polluted position detection.

Invariant: internal records never decide the position; the broker does. Our own order rows
say "long" while the broker is flat (the position was closed outside Bracketeer): a BUY is a
fresh entry, and a CLOSE is a no-op.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.signals.helpers import only_outcome, position, send
from trading.models import Order, Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_stale_records_of_a_long_do_not_matter_when_the_broker_is_flat(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price("MNQZ6", "18000.00")
    send(strategy, action="buy", ticker="MNQZ6", id="s1")
    token = httpx.post(
        f"{sim.rest_url}/auth/accesstokenrequest",
        json={"name": "demo", "password": "demo-password"},
    ).json()["accessToken"]
    contract = httpx.get(
        f"{sim.rest_url}/contract/find",
        params={"name": "MNQZ6"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    httpx.post(
        f"{sim.rest_url}/order/liquidateposition",
        headers={"Authorization": f"Bearer {token}"},
        json={"accountId": 1001, "contractId": contract["id"], "admin": False},
    ).raise_for_status()
    # Our stale records still say "long": the entry filled, its stop still working.
    assert Order.objects.filter(role="entry", state="filled").exists()
    assert Order.objects.filter(role="stop", state="working").exists()
    closing = only_outcome(send(strategy, action="close", ticker="MNQZ6", id="s2"))
    assert closing.decision == "ignored" and closing.position_before == 0
    again = only_outcome(send(strategy, action="buy", ticker="MNQZ6", id="s3"))
    assert again.decision == "open"
    assert position(sim) == 1
