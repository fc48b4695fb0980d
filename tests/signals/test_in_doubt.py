"""An order call that goes unanswered never leaves a position without its exits (issue 9,
item 2).

The simulator's ``hang`` fault holds a call before carrying it out (the client times out, the
order arrives later); ``drop`` carries it out and holds the answer (the order exists at once,
the client never hears); ``http_5xx`` refuses it before it is carried out (it never exists).
After each, the outcome is "in doubt" (never "failed") until look-ups by clOrdId settle it,
and the end state at the simulator is always either flat with nothing working, or the
position with its full exits. Nothing is ever sent twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.signals.helpers import outside_order, position, working
from trading.execution import outcome_settle, signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 1.0  # the client's timeout here; faults hold calls for HOLD seconds
HOLD = 2.0


@pytest.fixture
def quick(sim_settings: Any, settings: Any) -> Any:
    settings.TRADOVATE_TIMEOUT_SECONDS = TIMEOUT
    settings.IN_DOUBT_LOOKUP_DELAYS_SECONDS = [0.5, 0.5, 1, 1, 1, 1, 1]
    sim_settings.control.set_price("MNQZ6", "18000.00")
    return sim_settings


def _receive(strategy: Strategy, **fields: Any) -> Signal:
    received = signal_receive(strategy=strategy, raw=json.dumps(fields).encode())
    assert received.status == "accepted", received.reason
    return received.signal


def _settle_until_final(signal: Signal, *, timeout: float = 20.0) -> Signal:
    """Run the look-up rounds the schedule's tasks would run (no worker in these tests)."""
    deadline = time.monotonic() + timeout
    while True:
        signal.refresh_from_db()
        if signal.status in Signal.FINAL_STATUSES or time.monotonic() > deadline:
            return signal
        time.sleep(0.5)
        for outcome in signal.outcomes.filter(status=SignalOutcome.Status.IN_DOUBT):
            outcome_settle(outcome_id=outcome.pk)


def assert_flat_or_protected(sim: Any, account_id: int = 1001, *, stops_only: bool = False) -> None:
    """Flat with nothing working, or the position with stops and take-profits covering it."""
    net = position(sim, account_id)
    orders = working(sim, account_id)
    if net == 0:
        assert orders == [], orders
        return
    latest: dict[int, dict[str, Any]] = {}
    for version in sorted(sim.control.state()["orderVersions"], key=lambda v: v["id"]):
        latest[version["orderId"]] = version
    kinds = [latest[o["id"]] for o in orders]
    stops = sum(v["orderQty"] for v in kinds if v["orderType"] == "Stop")
    limits = sum(v["orderQty"] for v in kinds if v["orderType"] == "Limit")
    assert (stops, limits) == (abs(net), 0 if stops_only else abs(net)), (net, kinds)


def _sent_once(sim: Any) -> None:
    ids = [o["clOrdId"] for o in sim.control.state()["orders"] if o.get("clOrdId")]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("fault", ["hang", "drop"])
@pytest.mark.parametrize("endpoint", ["order/placeorder", "order/placeoco"])
def test_an_unanswered_order_call_is_in_doubt_then_settled_with_full_exits(
    quick: Any, strategy: Strategy, trader_account: TraderAccount, fault: str, endpoint: str
) -> None:
    sim = quick
    sim.control.faults(**{fault: {"count": 1, "seconds": HOLD, "endpoints": [endpoint]}})
    signal = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)

    outcome = signal.outcomes.get()
    assert signal.status == Signal.Status.IN_DOUBT
    assert outcome.status == SignalOutcome.Status.IN_DOUBT, outcome.reason
    assert "in doubt" in outcome.reason and "nothing is sent twice" in outcome.reason
    assert outcome.error_type == "BrokerTimeout"
    assert Order.objects.filter(outcome=outcome, state=Order.State.IN_DOUBT).exists()

    signal = _settle_until_final(signal)
    outcome.refresh_from_db()
    assert (signal.status, outcome.status) == (Signal.Status.DONE, "done"), outcome.reason
    assert "settled at the broker" in outcome.reason
    assert position(sim) == 1
    assert_flat_or_protected(sim)
    _sent_once(sim)
    rows = Order.objects.filter(outcome=outcome)
    assert {(o.role, o.state) for o in rows} == {
        ("entry", "filled"),
        ("take_profit", "working"),
        ("stop", "working"),
    }
    assert all(o.broker_order_id is not None for o in rows)


def test_a_stop_only_bracket_with_both_calls_unanswered_is_settled(
    quick: Any, strategy: Strategy, trader_account: TraderAccount
) -> None:
    """No take-profit: the entry and the stop both go through order/placeorder, both hang."""
    sim = quick
    Strategy.objects.filter(pk=strategy.pk).update(take_profits=None)
    sim.control.faults(hang={"count": 2, "seconds": HOLD, "endpoints": ["order/placeorder"]})
    signal = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)
    assert signal.status == Signal.Status.IN_DOUBT
    signal = _settle_until_final(signal)
    assert signal.status == Signal.Status.DONE, signal.outcomes.get().reason
    assert position(sim) == 1
    assert len(working(sim)) == 1
    assert_flat_or_protected(sim, stops_only=True)
    _sent_once(sim)


def test_an_entry_that_never_reached_the_broker_is_said_so_and_not_sent_again(
    quick: Any, strategy: Strategy, trader_account: TraderAccount
) -> None:
    """A 503 to an order call is ambiguous (it may have been carried out); here it was not."""
    sim = quick
    sim.control.faults(http_5xx={"count": 1, "status": 503, "endpoints": ["order/placeorder"]})
    signal = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)
    assert signal.status == Signal.Status.IN_DOUBT
    signal = _settle_until_final(signal)
    outcome = signal.outcomes.get()
    assert (signal.status, outcome.status) == (Signal.Status.FAILED, "failed")
    assert "the entry never reached the broker" in outcome.reason
    assert Order.objects.get(outcome=outcome, role="entry").state == Order.State.NEVER_PLACED
    assert sim.control.counters()["requests"]["order/placeorder"] == 1  # never sent again
    assert position(sim) == 0
    assert_flat_or_protected(sim)


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_reversal_whose_cancel_goes_unanswered_ends_reversed_with_full_exits(
    quick: Any, strategy: Strategy, trader_account: TraderAccount, fault: str
) -> None:
    sim = quick
    first = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)
    assert first.status == Signal.Status.DONE
    sim.control.faults(**{fault: {"count": 1, "seconds": HOLD, "endpoints": ["order/cancelorder"]}})
    signal = signal_execute(signal_id=_receive(strategy, action="sell", ticker="MNQZ6").pk)
    assert signal.status == Signal.Status.IN_DOUBT, signal.outcomes.get().reason
    signal = _settle_until_final(signal)
    outcome = signal.outcomes.get()
    assert signal.status == Signal.Status.DONE, outcome.reason
    assert position(sim) == -1
    assert_flat_or_protected(sim)
    roles = sorted(Order.objects.filter(outcome=outcome).values_list("role", flat=True))
    assert roles == ["entry", "flatten", "stop", "take_profit"]  # the close is a row too


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_close_that_goes_unanswered_ends_flat_with_nothing_working(
    quick: Any, strategy: Strategy, trader_account: TraderAccount, fault: str
) -> None:
    sim = quick
    outside_order(sim, "Buy", 2)
    endpoint = "order/liquidateposition"
    sim.control.faults(**{fault: {"count": 1, "seconds": HOLD, "endpoints": [endpoint]}})
    signal = signal_execute(signal_id=_receive(strategy, action="close", ticker="MNQZ6").pk)
    assert signal.status == Signal.Status.IN_DOUBT, signal.outcomes.get().reason
    signal = _settle_until_final(signal)
    outcome = signal.outcomes.get()
    assert signal.status == Signal.Status.DONE, outcome.reason
    assert position(sim) == 0
    assert_flat_or_protected(sim)
    close = Order.objects.get(outcome=outcome, role="flatten")
    assert (close.side, close.qty, close.state) == ("Sell", 2, Order.State.FILLED)
    assert sim.control.counters()["requests"][endpoint] == 1  # never sent twice


def test_one_slow_account_never_delays_the_others(
    quick: Any, strategy: Strategy, trader_account: TraderAccount, subaccounts: list[Any]
) -> None:
    from tests.factories import TraderAccountFactory

    TraderAccountFactory.create(trader=trader_account.trader, subaccount=subaccounts[1])
    sim = quick
    sim.control.faults(hang={"count": 1, "seconds": HOLD, "endpoints": ["order/placeorder"]})
    signal = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)
    by_status = {o.status: o for o in signal.outcomes.all()}
    fast, slow = by_status[SignalOutcome.Status.DONE], by_status[SignalOutcome.Status.IN_DOUBT]
    assert fast.finished_at is not None and slow.finished_at is not None
    assert fast.started_at is not None
    # Run one after the other, the healthy account would start after the slow one's call had
    # timed out; run side by side, it is done before that.
    assert fast.finished_at < slow.finished_at, (fast.finished_at, slow.finished_at)
    print(f"healthy account done in {(fast.finished_at - fast.started_at).total_seconds():.3f} s")
    signal = _settle_until_final(signal)
    assert signal.status == Signal.Status.DONE
    for account_id in (1001, 1002):
        assert position(sim, account_id) == 1
        assert_flat_or_protected(sim, account_id)


@pytest.mark.worker
def test_through_a_real_worker_the_look_up_schedule_settles_an_unanswered_entry(
    strategy: Strategy, trader_account: TraderAccount, sim: Any, monkeypatch: Any
) -> None:
    """The production path: webhook -> worker -> the entry's call hangs past the timeout ->
    in doubt -> the schedule's own tasks (countdowns, no test help) look it up -> exits."""
    from django.test import Client

    from tests.processes import running, wait_for, worker_cmd

    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("TRADOVATE_TIMEOUT_SECONDS", str(TIMEOUT))
    monkeypatch.setenv("IN_DOUBT_LOOKUP_DELAYS_SECONDS", "1,1,1,2,2,4")
    sim.control.set_price("MNQZ6", "18000.00")
    sim.control.faults(hang={"count": 1, "seconds": HOLD, "endpoints": ["order/placeorder"]})
    with running(worker_cmd(queues="signals"), log_name="worker-in-doubt"):
        answer = Client().post(
            f"/webhooks/tradingview/{strategy.webhook_token}/",
            data='{"action": "buy", "ticker": "MNQZ6"}',
            content_type="text/plain",
        )
        signal = Signal.objects.get(pk=answer.json()["signal_id"])
        wait_for(
            lambda: Signal.objects.get(pk=signal.pk).status == Signal.Status.IN_DOUBT,
            timeout=60,
            what="the entry's unanswered call to put the signal in doubt",
        )
        wait_for(
            lambda: Signal.objects.get(pk=signal.pk).status in Signal.FINAL_STATUSES,
            timeout=60,
            what="the look-up schedule to settle it",
        )
    outcome = SignalOutcome.objects.get(signal=signal)
    assert outcome.status == SignalOutcome.Status.DONE, outcome.reason
    assert outcome.lookups >= 1
    assert position(sim) == 1
    assert_flat_or_protected(sim)
    _sent_once(sim)


def test_an_outcome_in_doubt_shows_with_its_age_on_the_signal_page_and_the_health_panel(
    quick: Any, strategy: Strategy, trader_account: TraderAccount, owner_client: Any
) -> None:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from tests.factories import UserFactory

    sim = quick
    sim.control.faults(drop={"count": 1, "seconds": HOLD, "endpoints": ["order/placeorder"]})
    signal = signal_execute(signal_id=_receive(strategy, action="buy", ticker="MNQZ6").pk)
    SignalOutcome.objects.update(in_doubt_since=timezone.now() - timedelta(seconds=75))

    page = owner_client.get(f"/trading/signals/{signal.pk}/").content.decode()
    assert "In doubt" in page and "since 1\xa0minute" in page
    log = owner_client.get("/trading/signals/").content.decode()
    assert f"{trader_account.subaccount.name}: in doubt for 1\xa0minute" in log
    admin = Client()
    admin.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    panel = admin.get("/admin/billing/whopevent/health/").content.decode()
    assert 'id="in-doubt"' in panel
    import re

    assert re.search(r"in doubt for 7[5-9] s", panel), panel
    assert trader_account.subaccount.name in panel

    _settle_until_final(signal)
    panel = admin.get("/admin/billing/whopevent/health/").content.decode()
    assert "in doubt for" not in panel
