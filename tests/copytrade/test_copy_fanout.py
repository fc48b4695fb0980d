"""The copy fan-out (copytrade/fanout.py): a leader fill copied to followers on many logins,
per login one read, the rows before the calls, the calls at once; asserted on the simulator's
books and request counters."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import BrokerConnection, Subaccount, User
from copytrade.models import CopyGroup, CopyOutcome, Follower
from copytrade.replication import fill_copy
from copytrade.services import copy_group_create, follower_add
from tests.copytrade.test_replication import leader_trades
from tests.signals.fanout_setup import broker_books, logins_follow
from tests.signals.helpers import outside_order
from trading.brokers.services import broker_connection_create
from trading.models import Order, Strategy
from trading.position_lock import position_lock

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "MNQZ6"


@pytest.fixture
def group(subaccounts: list[Subaccount], member: User, sim_settings: Any) -> CopyGroup:
    sim_settings.control.set_price(SYMBOL, 20000)
    return copy_group_create(user=member, name="Fan-out", leader=subaccounts[0])


def followers_on_logins(
    sim: Any, group: CopyGroup, strategy: Strategy, *, logins: int, per_login: int, prefix: str
) -> list[Follower]:
    """``logins`` new simulator logins of ``per_login`` accounts, each account a follower
    (exits not copied: their copy is the per-follower path's, with its own reads)."""
    accounts = logins_follow(
        sim, user=group.user, strategy=strategy, logins=logins, per_login=per_login, prefix=prefix
    )
    return [
        follower_add(group=group, subaccount=account, copy_exits=False).follower
        for account in accounts
    ]


def requests(sim: Any) -> dict[str, int]:
    return dict(sim.control.counters()["requests"])


def test_a_fill_to_twelve_followers_of_three_logins_one_read_per_login_each_order_once(
    group: CopyGroup, subaccounts: list[Subaccount], strategy: Strategy, sim_settings: Any
) -> None:
    sim = sim_settings
    followers = followers_on_logins(sim, group, strategy, logins=3, per_login=4, prefix="cf")
    sizings = [(Decimal(1), None), (Decimal(2), None), (Decimal(-1), None), (Decimal(1), 3)]
    for number, follower in enumerate(followers):
        follower.ratio, follower.fixed_qty = sizings[number % 4]
        follower.save(update_fields=["ratio", "fixed_qty"])
    targets = {
        f.subaccount.broker_account_id: (2, 4, -2, 3)[n % 4] for n, f in enumerate(followers)
    }
    # DEMO1002, on the leader's own login, already holds its target: it is sent nothing.
    ready = follower_add(group=group, subaccount=subaccounts[1], copy_exits=False).follower
    outside_order(sim, "Buy", 2, account_id=1002)
    targets[1002] = 2
    accounts = [f.subaccount for f in followers] + [subaccounts[1]]
    before = requests(sim)
    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 2)
    fill_copy(fill_pk=fill.pk)

    books = broker_books(sim, accounts)
    assert {i: book["net"] for i, book in books.items()} == targets
    for account_id, book in books.items():
        copies = {c: n for c, n in book["placed"].items() if c and c.startswith("cp")}
        assert sorted(copies.values()) == ([] if account_id == 1002 else [1]), copies
    after = requests(sim)
    sent = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert sent["order/placeorder"] == 1 + 12, sent  # the leader's own trade, and the copies
    # The leader's read and one read per login (4, the leader's own among them) before the
    # orders, one or a few per login after them (3: nothing was sent on the leader's login);
    # the per-follower path reads each follower twice at least (26).
    assert 1 + 4 + 3 <= sent["position/list"] <= 1 + 4 + 3 * 3, sent

    outcomes = {o.follower_id: o for o in CopyOutcome.objects.filter(event__leader_fill=fill)}
    first = outcomes.pop(ready.pk)
    assert (first.status, first.reason, first.delta) == ("nothing", "already at target +2", 0)
    assert {o.status for o in outcomes.values()} == {CopyOutcome.Status.DONE}
    assert outcomes[followers[0].pk].reason == "+0 -> +2 (target +2)"
    assert outcomes[followers[1].pk].reason == "+0 -> +4 (target +4)"
    assert outcomes[followers[2].pk].reason == "+0 -> -2 (target -2)"
    assert all(o.started_at is not None and o.finished_at is not None for o in outcomes.values())
    rows = Order.objects.filter(copy_outcomes__event__leader_fill=fill)
    assert rows.count() == 12
    assert {(r.for_copy, r.role, r.broker_order_id is not None) for r in rows} == {
        (True, "entry", True)
    }
    assert {f.sync_state for f in Follower.objects.filter(pk__in=[f.pk for f in followers])} == {
        "in_sync"
    }

    placed = requests(sim)["order/placeorder"]
    fill_copy(fill_pk=fill.pk)  # redelivered: nothing sent again
    assert requests(sim)["order/placeorder"] == placed


def test_a_refused_copy_fails_only_its_follower_in_the_brokers_words(
    group: CopyGroup, subaccounts: list[Subaccount], strategy: Strategy, sim_settings: Any
) -> None:
    sim = sim_settings
    followers = followers_on_logins(sim, group, strategy, logins=2, per_login=3, prefix="cr")
    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 1)
    sim.control.faults(
        reject_orders={"count": 1, "failureReason": "MaxPosLimitReached", "failureText": "Max!"}
    )
    fill_copy(fill_pk=fill.pk)

    outcomes = list(CopyOutcome.objects.filter(event__leader_fill=fill))
    failed = [o for o in outcomes if o.status == CopyOutcome.Status.FAILED]
    assert len(failed) == 1 and "Max!" in failed[0].error, [(o.status, o.error) for o in outcomes]
    assert sum(o.status == CopyOutcome.Status.DONE for o in outcomes) == 5
    assert failed[0].orders.get().state == Order.State.REJECTED
    refused = Follower.objects.get(outcomes=failed[0])
    assert refused.sync_state == "drifted" and "Max!" in refused.sync_reason
    nets = sorted(
        book["net"] for book in broker_books(sim, [f.subaccount for f in followers]).values()
    )
    assert nets == [0, 1, 1, 1, 1, 1]


def test_a_follower_whose_position_is_busy_is_copied_after_it_by_the_per_follower_path(
    group: CopyGroup, subaccounts: list[Subaccount], strategy: Strategy, sim_settings: Any
) -> None:
    sim = sim_settings
    followers = followers_on_logins(sim, group, strategy, logins=1, per_login=3, prefix="cb")
    busy = followers[0].subaccount
    held, released = threading.Event(), []

    def signal_on_it() -> None:  # another writer (a signal) holds the position for a moment
        try:
            with position_lock(subaccount=busy, symbol=SYMBOL):
                held.set()
                time.sleep(1.0)
            released.append(timezone.now())
        finally:
            connection.close()

    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 1)
    other = threading.Thread(target=signal_on_it)
    other.start()
    assert held.wait(10)
    fill_copy(fill_pk=fill.pk)
    other.join()

    outcomes = {o.follower_id: o for o in CopyOutcome.objects.filter(event__leader_fill=fill)}
    assert {o.status for o in outcomes.values()} == {CopyOutcome.Status.DONE}
    waited = outcomes[followers[0].pk]
    assert waited.finished_at is not None and waited.finished_at > released[0]
    assert waited.reason == "+0 -> +1 (target +1)"
    books = broker_books(sim, [f.subaccount for f in followers])
    assert all(book["net"] == 1 for book in books.values())
    assert all(sum(book["placed"].values()) == 1 for book in books.values())


def test_a_login_that_cannot_log_in_fails_only_its_followers_in_the_brokers_words(
    group: CopyGroup, subaccounts: list[Subaccount], strategy: Strategy, sim_settings: Any
) -> None:
    sim = sim_settings
    followers = followers_on_logins(sim, group, strategy, logins=1, per_login=2, prefix="cg")
    bad = broker_connection_create(
        user=group.user,
        label="Mistyped",
        broker=BrokerConnection.Broker.SIMULATOR,
        username="nobody-at-all",
        password="wrong-password",
    )
    stranded = Subaccount.objects.create(connection=bad, broker_account_id=999_002, name="BAD2")
    lost = follower_add(group=group, subaccount=stranded, copy_exits=False).follower
    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 1)
    fill_copy(fill_pk=fill.pk)

    failed = CopyOutcome.objects.get(event__leader_fill=fill, follower=lost)
    assert failed.status == CopyOutcome.Status.FAILED
    assert "cannot log in to Mistyped" in failed.error and not failed.orders.exists()
    lost.refresh_from_db()
    assert lost.sync_state == "drifted" and "cannot log in to Mistyped" in lost.sync_reason
    others = CopyOutcome.objects.filter(event__leader_fill=fill).exclude(follower=lost)
    assert {o.status for o in others} == {CopyOutcome.Status.DONE}
    books = broker_books(sim, [f.subaccount for f in followers])
    assert all(book["net"] == 1 for book in books.values())


def test_with_the_batch_off_every_follower_goes_the_per_follower_path(
    group: CopyGroup,
    subaccounts: list[Subaccount],
    strategy: Strategy,
    sim_settings: Any,
    settings: Any,
) -> None:
    settings.FANOUT_BATCH = False
    sim = sim_settings
    followers = followers_on_logins(sim, group, strategy, logins=1, per_login=3, prefix="co")
    fill = leader_trades(sim, subaccounts[0].connection, "Buy", 1)
    before = requests(sim)
    fill_copy(fill_pk=fill.pk)

    outcomes = CopyOutcome.objects.filter(event__leader_fill=fill)
    assert {(o.status, o.reason) for o in outcomes} == {("done", "+0 -> +1 (target +1)")}
    books = broker_books(sim, [f.subaccount for f in followers])
    assert all(book["net"] == 1 for book in books.values())
    # The leader's read, and each follower's own reads before and after its order.
    assert requests(sim)["position/list"] - before.get("position/list", 0) >= 1 + 3 * 2
