"""D46 -- CLOSE parsed as SHORT.

DISASTERS.md row D46:
    what happened: "CLOSE parsed as SHORT"
    invariant:     "actions map through one explicit table; CLOSE is never an entry"
    proof:         "test"

A "close" alert was treated as a sell and opened a short. In the engine, CLOSE is its own
action: whatever the position, the settings (same/opposite, invert_signals, sizes) or the
alert's quantity, a CLOSE plan has no entry and never leaves a position larger than before.
The parser's action table is tested with the parser.

End to end (the bug was in the glue, not in the engine: a "close" that reaches the engine as a
SELL is a perfectly valid reversal): a CLOSE posted to the webhook through the ASGI door
production serves, stored, executed by the task the worker runs, against the simulator with a
position open and "opposite direction: reverse" set, flattens it and never opens the other side.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.engine import ES, NO_FILTERS, make_alert, make_broker, working_exits
from tests.signals.helpers import asgi_request, position, working
from trading.engine import Action, Decision, decide
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount
from trading.settings_resolution import EffectiveSettings, OppositeDirection, SameDirection
from trading.tasks import execute_signal

COMBOS = list(itertools.product([-4, -1, 0, 1, 4], SameDirection, OppositeDirection, [False, True]))


def test_action_is_exactly_buy_sell_close() -> None:
    assert [a.value for a in Action] == ["buy", "sell", "close"]
    assert Action("close") is Action.CLOSE


@pytest.mark.parametrize(("position", "same", "opposite", "invert"), COMBOS)
def test_close_is_never_an_entry(
    position: int, same: SameDirection, opposite: OppositeDirection, invert: bool
) -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE, quantity=Decimal(5)),
        settings=EffectiveSettings(
            entry_size=3,
            use_alert_quantity=True,
            on_same_direction=same,
            on_opposite_direction=opposite,
            invert_signals=invert,
        ),
        broker=make_broker(position, working=working_exits(9)),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.entry is None
    assert plan.exits is None
    assert plan.target_position == 0
    assert plan.decision is (Decision.IGNORED if position == 0 else Decision.CLOSE)
    assert plan.flatten is (position != 0)


def test_invert_signals_leaves_close_a_close() -> None:
    plan = decide(
        alert=make_alert(Action.CLOSE),
        settings=EffectiveSettings(invert_signals=True),
        broker=make_broker(2),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.CLOSE
    assert "inverted" not in plan.reason


def _webhook_then_worker(strategy: Strategy, body: dict[str, Any]) -> SignalOutcome:
    """POST through the production ASGI door, then run the task the worker runs."""
    response = asgi_request(
        "POST", f"/webhooks/tradingview/{strategy.webhook_token}/", json.dumps(body).encode()
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    signal_id = response.json()["signal_id"]
    execute_signal(signal_id)  # the function itself, as a worker would run it
    assert Signal.objects.get(pk=signal_id).status == Signal.Status.DONE
    outcome: SignalOutcome = SignalOutcome.objects.get(signal_id=signal_id)
    return outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        pytest.param("buy", {"action": "close"}, id="long-then-close"),
        pytest.param("sell", {"action": "close"}, id="short-then-close"),
        pytest.param("buy", {"action": "exit"}, id="long-then-exit"),
        pytest.param("buy", {"action": "flatten"}, id="long-then-flatten"),
        # TradingView's strategy alert for the exit of a long: the order was a sell, the
        # position after it is flat. The market position decides: a CLOSE, not a short.
        pytest.param(
            "buy", {"action": "sell", "market_position": "flat"}, id="strategy-exit-of-a-long"
        ),
    ],
)
def test_a_close_through_the_webhook_flattens_and_never_opens_the_other_side(
    trader_account: TraderAccount,
    strategy: Strategy,
    sim: Any,
    opening: str,
    closing: dict[str, str],
) -> None:
    assert strategy.on_opposite_direction == "reverse"  # a SELL here would open a short
    sim.control.set_price("MNQZ6", "18000.00")
    opened = _webhook_then_worker(strategy, {"action": opening, "ticker": "MNQZ6"})
    assert opened.decision == "open", opened.reason
    held = position(sim)
    assert abs(held) == 1 and len(working(sim)) == 2  # the position and its exits

    closed = _webhook_then_worker(strategy, {**closing, "ticker": "MNQZ6"})
    assert position(sim) == 0, "the CLOSE did not leave the account flat"
    assert working(sim) == []  # its exits went with it
    assert (closed.status, closed.decision) == (SignalOutcome.Status.DONE, "close")
    assert (closed.position_before, closed.position_after) == (held, 0)
    assert closed.plan is not None and closed.plan["entry"] is None
    assert not Order.objects.filter(outcome=closed, role=Order.Role.ENTRY).exists()
