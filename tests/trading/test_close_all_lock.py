"""Close-all is one more writer on a position: it takes the same (subaccount, symbol) lock as
signal execution (DESIGN §5.3), so it never interleaves with a signal placing exits."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import connection

from tests.ui.sim_setup import net_position, ui_account, working_orders
from trading.control import positions_close_all
from trading.execution import signal_execute
from trading.models import TraderAccount
from trading.position_lock import position_lock
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["ui_account"]


def _open_long(account: TraderAccount) -> None:
    received = signal_receive(
        strategy=account.trader.strategy,
        raw=json.dumps({"action": "buy", "ticker": "MNQZ2026"}).encode(),
    )
    signal_execute(signal_id=received.signal.pk)


def test_close_all_waits_for_the_position_lock_then_closes(
    ui_account: TraderAccount, sim: Any
) -> None:
    _open_long(ui_account)
    assert net_position(sim) == 1
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:  # another writer (a signal's worker thread) on MNQZ6
        try:
            with position_lock(subaccount=ui_account.subaccount, symbol="MNQZ6"):
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    results: list[Any] = []

    def close_all() -> None:
        try:
            results.extend(positions_close_all(subaccounts=[ui_account.subaccount]))
        finally:
            connection.close()

    closer = threading.Thread(target=close_all)
    closer.start()
    time.sleep(0.8)
    assert closer.is_alive(), "close-all went ahead while another writer held the position"
    assert net_position(sim) == 1
    assert len(working_orders(sim)) == 2
    release.set()
    closer.join(15)
    holder.join(5)
    assert results[0].ok, results[0].errors
    assert net_position(sim) == 0
    assert working_orders(sim) == []
    assert len(results[0].cancelled) == 2


def test_close_all_names_a_busy_position_instead_of_closing_half(
    ui_account: TraderAccount, sim: Any
) -> None:
    _open_long(ui_account)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with position_lock(subaccount=ui_account.subaccount, symbol="MNQZ6"):
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    try:
        [result] = positions_close_all(subaccounts=[ui_account.subaccount], lock_timeout=0.3)
    finally:
        release.set()
        holder.join(5)
    assert not result.ok
    assert "busy with another signal" in result.errors[0]
    assert "nothing was closed" in result.errors[0]
    assert net_position(sim) == 1
    assert len(working_orders(sim)) == 2
