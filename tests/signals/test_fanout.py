"""The fan-out (trading/fanout.py): one alert to many accounts of many logins, per login one
read, rows before calls, the calls at once; asserted on the simulator's books."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BrokerConnection, Subaccount
from tests.factories import TraderAccountFactory, TraderFactory
from tests.signals.fanout_setup import broker_books, logins_follow
from trading.brokers.services import broker_connection_create
from trading.execution import outcome_chunks, signal_execute
from trading.models import Order, Signal, SignalOutcome, Strategy
from trading.services import signal_receive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def priced(sim_settings: Any) -> Any:
    sim_settings.control.set_price("MNQZ6", "18000.00")
    return sim_settings


def _execute(strategy: Strategy, **fields: Any) -> Signal:
    received = signal_receive(strategy=strategy, raw=json.dumps(fields).encode())
    assert received.status == "accepted", received.reason
    return signal_execute(signal_id=received.signal.pk)


def _requests(sim: Any) -> dict[str, int]:
    return dict(sim.control.counters()["requests"])


def test_one_alert_to_twelve_accounts_of_three_logins_one_read_per_login_brackets_once(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    subs = logins_follow(priced, user=member, strategy=strategy, logins=3, per_login=4, prefix="fo")
    signal = _execute(strategy, action="buy", ticker="MNQZ6")

    assert signal.status == Signal.Status.DONE
    outcomes = list(signal.outcomes.all())
    assert len(outcomes) == 12
    assert {(o.status, o.decision, o.position_before, o.position_after) for o in outcomes} == {
        ("done", "open", 0, 1)
    }
    for account_id, book in broker_books(priced, subs).items():
        assert book["net"] == 1, account_id
        placed = book["placed"]
        assert sorted(placed.values()) == [1, 1, 1], placed  # entry, tp1, sl1: once each
        assert sorted(c.rsplit("-", 1)[1] for c in book["working"]) == ["sl1", "tp1"]
    rows = Order.objects.filter(signal=signal)
    assert {(r.role, r.state, r.broker_order_id is not None) for r in rows} == {
        ("entry", "filled", True),
        ("take_profit", "working", True),
        ("stop", "working", True),
    }
    assert rows.count() == 36
    # One read of each list per login, not one per account (the per-account path: 12 each).
    requests = _requests(priced)
    assert requests["order/list"] == 3, requests
    assert requests["position/list"] <= 3 * 3, requests  # the read, the fill, maybe one more
    assert requests["order/placeorder"] == 12 and requests["order/placeoco"] == 12
    # The stages of the critical path, in order.
    path = ["picked", "outcomes", "locked", "read", "decided", "entry_rows", "entries_answered"]
    times = [signal.timings[stage] for stage in path]
    assert times == sorted(times), signal.timings
    page = Client()
    page.force_login(member)
    stages = page.get(reverse("trading:signal_detail", args=[signal.pk])).content.decode()
    assert 'id="signal-stages"' in stages and "broker read" in stages and "decided" in stages


def test_a_login_that_cannot_log_in_blocks_only_its_own_accounts(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    subs = logins_follow(priced, user=member, strategy=strategy, logins=2, per_login=3, prefix="ok")
    bad = broker_connection_create(
        user=member,
        label="Mistyped",
        broker=BrokerConnection.Broker.SIMULATOR,
        username="nobody-at-all",
        password="wrong-password",
    )
    stranded = Subaccount.objects.create(connection=bad, broker_account_id=999_001, name="BAD1")
    trader = TraderFactory.create(strategy=strategy, user=member)
    TraderAccountFactory.create(trader=trader, subaccount=stranded)

    signal = _execute(strategy, action="buy", ticker="MNQZ6")

    assert signal.status == Signal.Status.PARTLY_FAILED
    blocked = signal.outcomes.get(subaccount=stranded)
    assert blocked.status == SignalOutcome.Status.SAFETY_BLOCK
    assert "cannot log in to Mistyped" in blocked.reason
    assert blocked.broker_response != ""  # the broker's own words
    assert not Order.objects.filter(outcome=blocked).exists()
    others = signal.outcomes.exclude(subaccount=stranded)
    assert {o.status for o in others} == {SignalOutcome.Status.DONE}
    assert all(book["net"] == 1 for book in broker_books(priced, subs).values())


def test_a_read_that_fails_places_nothing_on_that_login(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    subs = logins_follow(priced, user=member, strategy=strategy, logins=1, per_login=3, prefix="rd")
    # Every try of the positions read fails (the REST client retries a GET twice).
    priced.control.faults(http_5xx={"count": 3, "status": 503, "endpoints": ["position/list"]})
    signal = _execute(strategy, action="buy", ticker="MNQZ6")
    assert {o.status for o in signal.outcomes.all()} == {SignalOutcome.Status.SAFETY_BLOCK}
    assert all("503" in o.reason for o in signal.outcomes.all()), [
        o.reason for o in signal.outcomes.all()
    ]
    assert _requests(priced).get("order/placeorder", 0) == 0
    assert all(book["net"] == 0 for book in broker_books(priced, subs).values())


def test_a_refused_entry_fails_its_account_in_the_brokers_words_and_no_other(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    subs = logins_follow(priced, user=member, strategy=strategy, logins=1, per_login=4, prefix="rj")
    priced.control.faults(
        reject_orders={"count": 1, "failureReason": "MaxPosLimitReached", "failureText": "Max!"}
    )
    signal = _execute(strategy, action="buy", ticker="MNQZ6")
    outcomes = list(signal.outcomes.all())
    failed = [o for o in outcomes if o.status == SignalOutcome.Status.FAILED]
    assert len(failed) == 1 and failed[0].broker_response == "Max!", [o.reason for o in outcomes]
    assert Order.objects.get(outcome=failed[0]).state == Order.State.REJECTED
    assert sum(o.status == SignalOutcome.Status.DONE for o in outcomes) == 3
    nets = sorted(book["net"] for book in broker_books(priced, subs).values())
    assert nets == [0, 1, 1, 1]


def test_a_429_stops_every_call_of_that_login_not_yet_sent_and_no_other_login(
    priced: Any, member: Any, strategy: Strategy, settings: Any
) -> None:
    settings.FANOUT_LOGIN_CONCURRENCY = 1  # one call in flight per login: the rest wait
    subs = logins_follow(priced, user=member, strategy=strategy, logins=2, per_login=4, prefix="rl")
    # The first entry sent gets HTTP 429 (whichever login it belongs to).
    priced.control.faults(http_5xx={"count": 1, "status": 429, "endpoints": ["order/placeorder"]})
    signal = _execute(strategy, action="buy", ticker="MNQZ6")

    outcomes = list(signal.outcomes.select_related("subaccount"))
    by_login: dict[int, set[str]] = {}
    for o in outcomes:
        by_login.setdefault(o.subaccount.connection_id, set()).add(o.status)
    limited = [k for k, statuses in by_login.items() if statuses == {SignalOutcome.Status.FAILED}]
    assert len(limited) == 1, by_login  # the whole login that got the 429, and only it
    assert by_login[next(k for k in by_login if k not in limited)] == {SignalOutcome.Status.DONE}
    refused = [o for o in outcomes if o.subaccount.connection_id in limited]
    assert all("rate limit" in o.error_message for o in refused), [o.error_message for o in refused]
    # 4 + 1 entries sent: the other login's four, and the one answered 429; the limited
    # login's three others were never sent (its cooldown), so nothing is at the broker for it.
    assert _requests(priced)["order/placeorder"] == 5
    books = broker_books(priced, [s for s in subs if s.connection_id in limited])
    assert all(book["net"] == 0 and not book["placed"] for book in books.values())


def test_two_outcomes_on_one_position_go_one_after_the_other(
    priced: Any, member: Any, strategy: Strategy, subaccounts: list[Subaccount]
) -> None:
    """Two traders of one strategy on the same account: the fan-out takes one, the per-account
    path the other after it (it reads the first one's position: long 1, "ignore")."""
    for _ in range(2):
        trader = TraderFactory.create(strategy=strategy, user=member)
        TraderAccountFactory.create(trader=trader, subaccount=subaccounts[0])
    signal = _execute(strategy, action="buy", ticker="MNQZ6")
    decisions = sorted(o.decision for o in signal.outcomes.all())
    assert decisions == ["ignored", "open"], decisions
    assert broker_books(priced, subaccounts[:1])[subaccounts[0].broker_account_id]["net"] == 1


def test_a_close_on_many_accounts_goes_the_per_account_way_and_closes_each(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    subs = logins_follow(priced, user=member, strategy=strategy, logins=2, per_login=3, prefix="cl")
    _execute(strategy, action="buy", ticker="MNQZ6")
    signal = _execute(strategy, action="close", ticker="MNQZ6")
    assert signal.status == Signal.Status.DONE
    assert {o.decision for o in signal.outcomes.all()} == {"close"}
    for book in broker_books(priced, subs).values():
        assert book["net"] == 0 and book["working"] == []


def test_chunks_keep_each_login_whole() -> None:
    pairs = [(1, 10), (2, 10), (3, 20), (4, 20), (5, 20), (6, 30), (7, 40)]
    assert outcome_chunks(pairs, size=3) == [[1, 2], [3, 4, 5], [6, 7]]
    assert outcome_chunks(pairs, size=100) == [[1, 2, 3, 4, 5, 6, 7]]
    assert outcome_chunks(pairs, size=1) == [[1, 2], [3, 4, 5], [6], [7]]
    assert outcome_chunks([], size=5) == []


def test_an_account_whose_position_is_busy_waits_its_turn_on_the_per_account_path(
    priced: Any, member: Any, strategy: Strategy
) -> None:
    """Another signal holds one account's position lock: the fan-out leaves that account (its
    try fails), the others go at once, and the busy one is executed once the lock is free."""
    import threading

    from django.db import connection

    from trading.position_lock import position_lock, position_locks_try

    subs = logins_follow(priced, user=member, strategy=strategy, logins=1, per_login=3, prefix="bz")
    holding, release = threading.Event(), threading.Event()

    def other_signal() -> None:
        with position_lock(subaccount=subs[0], symbol="MNQZ6"):
            holding.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=other_signal)
    holder.start()
    assert holding.wait(10)
    assert position_locks_try(positions=[(subs[0].pk, "MNQZ6"), (subs[1].pk, "MNQZ6")]) == [
        False,
        True,
    ]
    from trading.position_lock import position_locks_release

    position_locks_release(positions=[(subs[1].pk, "MNQZ6")])
    threading.Timer(1.0, release.set).start()
    signal = _execute(strategy, action="buy", ticker="MNQZ6")
    holder.join(10)
    assert {o.status for o in signal.outcomes.all()} == {SignalOutcome.Status.DONE}
    busy = signal.outcomes.get(subaccount=subs[0])
    others = signal.outcomes.exclude(subaccount=subs[0])
    finished = [o.finished_at for o in others]
    assert busy.finished_at is not None and None not in finished
    assert all(busy.finished_at > f for f in finished if f is not None)  # it waited; not they
    assert all(book["net"] == 1 for book in broker_books(priced, subs).values())


def test_exits_the_broker_did_not_take_for_a_429_are_placed_once_the_cooldown_ends(
    priced: Any, member: Any, strategy: Strategy, settings: Any
) -> None:
    """Both entries fill; the first exit call gets a 429, so the login's cooldown refuses the
    other unsent. Both outcomes are in doubt, not done: their look-up, after the cooldown,
    places each position's stop (a rejected row would have counted as answered: no stop)."""
    from trading.execution import outcome_settle

    settings.FANOUT_LOGIN_CONCURRENCY = 1
    settings.TRADOVATE_429_COOLDOWN_SECONDS = 2.0
    subs = logins_follow(priced, user=member, strategy=strategy, logins=1, per_login=2, prefix="ex")
    priced.control.faults(http_5xx={"count": 1, "status": 429, "endpoints": ["order/placeoco"]})
    signal = _execute(strategy, action="buy", ticker="MNQZ6")
    outcomes = list(signal.outcomes.all())
    assert {o.status for o in outcomes} == {SignalOutcome.Status.IN_DOUBT}, [
        o.reason for o in outcomes
    ]
    exits = Order.objects.filter(signal=signal, role__in=["take_profit", "stop"])
    assert {r.state for r in exits} == {Order.State.NEVER_PLACED}
    assert all("not taken by the broker" in r.error for r in exits)

    import time

    time.sleep(2.2)  # the cooldown ends
    for outcome in outcomes:
        outcome_settle(outcome_id=outcome.pk)
    assert {o.status for o in signal.outcomes.all()} == {SignalOutcome.Status.DONE}
    for book in broker_books(priced, subs).values():
        assert book["net"] == 1
        assert sorted(c.rsplit("-", 1)[1] for c in book["working"]) == ["sl1r", "tp1r"]
        assert max(book["placed"].values()) == 1
