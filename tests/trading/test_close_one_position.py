"""Closing one position (the dashboard's "Close MNQZ6" button) through the control centre's
close flow: the confirmation shows only that contract, and confirming cancels only that
contract's working orders and flattens only that position, at the simulator. Another
position on the same account stays open; another user gets 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.simulator.helpers import Api
from tests.ui.sim_setup import net_position, ui_account, working_orders
from trading.execution import signal_execute
from trading.models import TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["ui_account"]


def _open_mnq_long_and_mes_long(account: TraderAccount, sim: Any) -> tuple[int, int]:
    received = signal_receive(
        strategy=account.trader.strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode(),
    )
    signal_execute(signal_id=received.signal.pk)  # MNQ long 1 with a take-profit and a stop
    api = Api(sim)
    sim.control.set_price("MESZ6", "6000.00")
    api.place(symbol="MESZ6", orderQty=2, action="Buy")  # placed by hand at the broker
    return api.contract_id("MNQZ6"), api.contract_id("MESZ6")


def _positions(sim: Any) -> dict[int, int]:
    return {p["contractId"]: p["netPos"] for p in sim.control.state()["positions"]}


def test_closing_one_position_leaves_the_account_s_other_position_open(
    ui_account: TraderAccount, sim: Any
) -> None:
    mnq, mes = _open_mnq_long_and_mes_long(ui_account, sim)
    assert _positions(sim)[mnq] == 1 and _positions(sim)[mes] == 2
    assert len(working_orders(sim)) == 2
    client = Client()
    client.force_login(ui_account.trader.user)
    url = reverse("trading:account_close", args=[ui_account.subaccount_id])

    shown = client.get(f"{url}?contract={mnq}&from=dashboard")
    text = shown.content.decode()
    assert shown.status_code == 200
    assert "Close MNQZ6 on account DEMO1001?" in text
    assert "MESZ6" not in text  # the other position is not part of this close
    assert 'href="/dashboard/"' in text  # back leads where the button was
    exposure = shown.context["exposures"][0]
    assert [p.symbol for p in exposure.positions] == ["MNQZ6"]
    assert len(exposure.working_orders) == 2

    done = client.post(
        f"{url}?contract={mnq}&from=dashboard", {"fingerprint": shown.context["fingerprint"]}
    )
    assert done.status_code == 200
    assert "Flattened MNQZ6: was long 1" in done.content.decode()
    assert _positions(sim)[mnq] == 0
    assert _positions(sim)[mes] == 2  # untouched
    assert working_orders(sim) == []  # MNQ's exits cancelled (MES had none)
    assert net_position(sim) == 2


def test_a_contract_that_is_not_a_number_is_a_bad_request(
    ui_account: TraderAccount, other_client: Client
) -> None:
    client = Client()
    client.force_login(ui_account.trader.user)
    url = reverse("trading:account_close", args=[ui_account.subaccount_id])
    assert client.get(f"{url}?contract=MNQZ6").status_code == 400
    # Another user: the same 404 as for an account that does not exist.
    assert other_client.get(f"{url}?contract=1").status_code == 404
    assert other_client.post(f"{url}?contract=1", {"fingerprint": "x"}).status_code == 404
