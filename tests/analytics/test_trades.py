"""Trades from the mirror's fills, against the simulator: built live as fills are recorded,
linked to their signal, and rebuilt by the command to the very same rows."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from analytics.models import Trade
from analytics.services import fee_rate_set
from tests.signals.helpers import only_outcome, outside_order, send
from tests.trading.test_mirror import apply_all, stream_events
from trading.models import Strategy, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


def trade_rows() -> list[tuple[Any, ...]]:
    return list(
        Trade.objects.order_by("opened_at", "direction").values_list(
            "symbol", "direction", "max_qty", "contracts", "points", "gross_pnl", "closed_at"
        )
    )


def test_trades_are_built_live_from_fills_linked_to_their_signal_and_rebuilt_the_same(
    trader_account: TraderAccount, strategy: Strategy, sim: Any
) -> None:
    sim.control.set_price(SYMBOL, 20000)
    outcome = only_outcome(send(strategy, action="buy", ticker="MNQ1!"))

    def take_profit_then_reverse_by_hand() -> None:
        sim.control.step(SYMBOL, 20)  # the take-profit fills at 20005: +5 points
        outside_order(sim, "Sell", 2)  # by hand: short 2 ...
        sim.control.step(SYMBOL, -4)
        outside_order(sim, "Buy", 3)  # ... a reversal: closes the short, opens long 1

    events = stream_events(
        sim,
        during=take_profit_then_reverse_by_hand,
        until=lambda ev: sum(e.entity_type == "fill" for e in ev) >= 3,
    )
    apply_all(trader_account.subaccount.connection_id, events)

    first, short, rest = Trade.objects.order_by("opened_at", "id")
    assert (first.direction, first.points, first.gross_pnl) == (1, Decimal(5), Decimal("10.00"))
    assert list(first.signals.values_list("pk", flat=True)) == [outcome.signal_id]
    assert (short.direction, short.max_qty, short.closed_at is not None) == (-1, 2, True)
    assert short.points == Decimal(2)  # 2 contracts x 1 point (20005 -> 20004)
    assert (rest.direction, rest.max_qty, rest.closed_at) == (1, 1, None)  # still open

    built = trade_rows()
    out = io.StringIO()
    call_command("rebuild_trades", stdout=out)
    assert "3 trades" in out.getvalue()
    assert trade_rows() == built

    fee_rate_set(
        connection=trader_account.subaccount.connection, root="MNQ", per_contract=Decimal("0.62")
    )
    charged = Trade.objects.order_by("opened_at", "id")[0]
    assert (charged.fees, charged.net_pnl) == (Decimal("1.24"), Decimal("8.76"))  # 2 contracts
    with pytest.raises(ValueError):
        fee_rate_set(
            connection=trader_account.subaccount.connection, root="XX", per_contract=Decimal(1)
        )
