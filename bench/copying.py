"""Copy-trading benchmark (issue 11, Figures): a leader's fill at the simulator -> every
follower's order accepted, with the simulator's 50 ms latency fault on every broker call, for
1, 10 and 100 followers, concurrent (``COPY_FOLLOWER_CONCURRENCY``, default 16) beside
sequential (the setting at 1, in this process).

Real simulator process, PostgreSQL and Redis, the bench's own database and Redis prefix. The
leader is its own simulator login; the followers are accounts of other logins, 10 per login,
all of one Bracketeer user, each at ratio 1. Each trade: the leader buys (or sells) 1 by hand
at the simulator's REST API; a second user socket of the leader's login in this process
receives the operation's events and `mirror_apply` records them (as ``run_streams`` does), then
`fill_copy` runs here (the ``copytrade.copy_fill`` task's body; the mirror's own queueing of
the task is switched off in this process, so nothing lands in the shared Celery queue).

Times, all on this machine's clock (the simulator stamps its orders with time.time()):
- call -> last order: `fill_copy` called -> the last follower order's creation stamp at the
  simulator (the order is accepted there; its answer leaves at once).
- call -> return: `fill_copy` returned (every follower's position re-read, rows written).
- fill -> last order: the leader's fill stamp at the simulator -> the last follower order;
  adds the event's trip to this process and its `mirror_apply` (no Celery hop here).
Broker round trips per follower come from the simulator's request counters. Where a
follower's time goes: its CopyOutcome's start and finish beside its order's stamp, and, in
two more trades at 100 followers, timed from the inside (`_copy_timing`: each broker call,
each follower's CPU and SQL, where the copy threads wait); the headline trades run untimed.

    .venv/bin/python bench/copying.py     (BENCH_TRADES: measured trades per size, even; 4)
The issue's goal: 100 followers in under 2x one broker round trip (sequential would be 100x).
(Named copying.py: a bench/copy.py would shadow the standard library's ``copy`` for the
script, whose folder comes first on the path.)
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from _common import bench_environment, prepare_database, redis_clear, sim_time, wait_until
from _copy_timing import CallLog, copy_timed
from _stream_logins import PASSWORD, BenchLogin, Listener, login_connect, rest_token

TRADES = int(os.environ.get("BENCH_TRADES", "4"))
SIZES = (1, 10, 100)
PER_LOGIN = 10
LATENCY_MS = 50
SYMBOL = "MNQZ6"
EMAIL_DOMAIN = "bench-copy.example"


@dataclass
class Trade:
    followers: int
    concurrency: int
    fill_at: float  # the leader's fill, simulator stamp
    event_at: float  # its events received here
    called_at: float
    returned_at: float
    orders_at: list[float]  # every follower order's creation stamp at the simulator
    requests: Counter[str]
    outcomes: list[tuple[float, float, float]]  # (started, order stamp, finished) per follower

    @property
    def to_last_order(self) -> float:
        return max(self.orders_at) - self.called_at

    @property
    def to_return(self) -> float:
        return self.returned_at - self.called_at

    @property
    def fill_to_last_order(self) -> float:
        return max(self.orders_at) - self.fill_at


def login_make(sim: Any, user: Any, name: str, accounts: int) -> BenchLogin:
    """A simulator user with ``accounts`` accounts, connected for ``user``, token stored."""
    from trading.brokers.services import broker_token_ensure

    made = sim.control.add_user(name, PASSWORD, [f"{name.upper()}A{i}" for i in range(accounts)])
    login = login_connect(sim_name=name, accounts=made["accounts"], streamed=False, user=user)
    broker_token_ensure(connection=login.connection)  # as in production: a stored token
    return login


def owner_make() -> Any:
    """The bench's user, on a plan with copy trading and no account or follower cap."""
    from accounts.models import User
    from billing.models import Plan
    from billing.services import membership_grant

    User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()
    plan, _ = Plan.objects.update_or_create(
        slug="bench-copy",
        defaults={
            "name": "Bench copy",
            "max_broker_accounts": None,
            "max_traders": None,
            "max_followers": None,
            "copy_trading_allowed": True,
        },
    )
    user = User.objects.create_user(f"owner-{uuid.uuid4().hex[:6]}@{EMAIL_DOMAIN}", "bench-pw-123")
    membership_grant(user=user, plan=plan, granted_by=None)
    return user


def leader_fill(sim: Any, leader: BenchLogin, listener: Listener, token: str, action: str) -> Any:
    """The leader trades 1 by hand; its events, as received, applied by the mirror; the Fill
    row and when its events arrived."""
    import httpx

    from trading.mirror import mirror_apply
    from trading.models import Fill

    seen = len(listener.events)
    account = leader.accounts[0]
    answer = httpx.post(
        f"{sim.rest_url}/order/placeorder",
        json={
            "accountId": account["id"],
            "accountSpec": account["name"],
            "action": action,
            "symbol": SYMBOL,
            "orderQty": 1,
            "orderType": "Market",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    if "orderId" not in answer:
        raise SystemExit(f"the simulator refused the leader's order: {answer}")

    def fill_and_position() -> bool:
        kinds = [e.entity_type for _, e in listener.events[seen:]]
        return "fill" in kinds and "position" in kinds

    wait_until(fill_and_position, timeout=10, what="the leader's fill on its stream", every=0.002)
    events = listener.events[seen:]
    for _, event in events:
        mirror_apply(connection_pk=leader.connection.pk, event=event)
    fill_event = next(e for _, e in events if e.entity_type == "fill")
    arrived = next(at for at, e in events if e.entity_type == "fill")
    return Fill.objects.get(broker_fill_id=str(fill_event.entity["id"])), arrived


def trade_measure(
    sim: Any, leader: BenchLogin, listener: Listener, token: str, action: str, followers: int
) -> Trade:
    from django.conf import settings

    from copytrade.models import CopyOutcome
    from copytrade.replication import fill_copy

    fill, arrived = leader_fill(sim, leader, listener, token, action)
    before = Counter(sim.control.counters()["requests"])
    called = time.time()
    fill_copy(fill_pk=fill.pk)
    returned = time.time()
    requests = Counter(sim.control.counters()["requests"])
    requests.subtract(before)
    prefix = f"cp{fill.broker_fill_id}-"
    orders = {
        o["clOrdId"].removeprefix(prefix): sim_time(o["timestamp"])
        for o in sim.control.state()["orders"]
        if o.get("clOrdId", "").startswith(prefix)
    }
    outcomes = list(CopyOutcome.objects.filter(event__leader_fill=fill))
    failed = [o for o in outcomes if o.status != CopyOutcome.Status.DONE]
    if len(orders) != followers or len(outcomes) != followers or failed:
        raise SystemExit(
            f"{followers} followers: {len(orders)} orders at the simulator, "
            f"{len(outcomes)} outcomes, not done: {[(o.status, o.error) for o in failed][:3]}"
        )
    return Trade(
        followers=followers,
        concurrency=settings.COPY_FOLLOWER_CONCURRENCY,
        fill_at=fill.filled_at.timestamp(),
        event_at=arrived,
        called_at=called,
        returned_at=returned,
        orders_at=list(orders.values()),
        requests=+requests,
        outcomes=[
            (stamp(o.started_at), orders[str(o.follower_id)], stamp(o.finished_at))
            for o in outcomes
        ],
    )


def stamp(moment: datetime | None) -> float:
    if moment is None:
        raise SystemExit("a finished copy outcome without its start or finish time")
    return moment.timestamp()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def one_round_trip(leader: BenchLogin) -> float:
    """The median of 10 position reads through our broker client, one at a time."""
    from trading.brokers.services import broker_for

    broker = broker_for(connection=leader.connection)
    try:
        took = []
        for _ in range(10):
            started = time.perf_counter()
            broker.positions(account_id=leader.accounts[0]["id"])
            took.append(time.perf_counter() - started)
    finally:
        broker.close()
    return median(took)


def size_report(
    n: int, concurrent: list[Trade], sequential: list[Trade], trip: float
) -> tuple[float, float]:
    """Prints one size's figures; returns its concurrent and sequential call -> last order."""
    c_last = median([t.to_last_order for t in concurrent])
    s_last = median([t.to_last_order for t in sequential])
    c_ret = median([t.to_return for t in concurrent])
    s_ret = median([t.to_return for t in sequential])
    c_fill = median([t.fill_to_last_order for t in concurrent])
    print(
        f"{n:>3} followers  call -> last order accepted: {ms(c_last)} "
        f"({c_last / trip:.1f} round trips), sequential {ms(s_last)} "
        f"(x{s_last / c_last:.1f}); call -> return {ms(c_ret)}, sequential {ms(s_ret)} "
        f"(x{s_ret / c_ret:.1f}); leader's fill at the simulator -> last order {ms(c_fill)}"
    )
    per = Counter[str]()
    for trade in concurrent:
        per.update(trade.requests)
    per_follower = ", ".join(
        f"{endpoint} {count / (len(concurrent) * n):.2f}" for endpoint, count in per.most_common()
    )
    starts = [s - t.called_at for t in concurrent for s, _, _ in t.outcomes]
    to_order = [o - s for t in concurrent for s, o, _ in t.outcomes]
    after = [f - o for t in concurrent for _, o, f in t.outcomes]
    print(
        f"     requests per follower (whole group incl. the leader's read, / followers): "
        f"{per_follower}\n"
        f"     per follower (concurrent, median): started {ms(median(starts))} after the call "
        f"(last {ms(max(starts))}), start -> its order accepted {ms(median(to_order))}, "
        f"order -> finished {ms(median(after))}"
    )
    return c_last, s_last


def breakdown(
    sim: Any, leader: BenchLogin, listener: Listener, token: str, followers: int, trip: float
) -> None:
    """Two more trades at ``followers``, timed from the inside (`_copy_timing`): where a
    follower's time goes, and how many broker calls precede its order (the critical path)."""
    log = CallLog()
    segments: dict[str, list[float]] = defaultdict(list)
    before_order: list[int] = []
    queries: list[int] = []
    leader_reads: list[float] = []
    trade = None
    with copy_timed(log):
        for action in ("Buy", "Sell"):
            log.clear()
            trade = trade_measure(sim, leader, listener, token, action, followers)
            by_follower: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
            for who, source, name, started, ended in log.calls:
                by_follower[who].append((source, name, started, ended))
            leader_reads += [e - s for _, _, s, e in by_follower.pop("leader", [])]
            for who, calls in by_follower.items():
                calls.sort(key=lambda c: c[2])
                start, end = log.spans[who]
                order_at = next(i for i, c in enumerate(calls) if c[1] == "place_order")
                before_order.append(order_at)
                for i, (_, _, s, e) in enumerate(calls[:order_at]):
                    segments[f"position read {i + 1}"].append(e - s)
                segments["order (place_order)"].append(calls[order_at][3] - calls[order_at][2])
                after = calls[order_at + 1 :]
                segments["position wait (reads after the order)"].append(
                    sum(e - s for src, _, s, e in after if src == "copy")
                )
                segments["exits: position read (copytrade.exits)"].append(
                    sum(e - s for src, _, s, e in after if src == "exits")
                )
                cpu, count, in_db = log.work[who]
                in_calls = sum(e - s for _, _, s, e in calls)
                segments["SQL statements, until answered"].append(in_db)
                segments["the rest (waiting for a database connection, the GIL; Python)"].append(
                    (end - start) - in_calls - in_db
                )
                segments["whole follower"].append(end - start)
                segments["  of it this thread's CPU time"].append(cpu)
                queries.append(count)
            queued = sorted(s - trade.called_at for s, _ in log.spans.values())
            segments["waiting for a pool thread (the last follower)"].append(queued[-1])
    assert trade is not None
    calls_before = Counter(before_order).most_common(1)[0][0]
    cpu_all = sum(w[0] for w in log.work.values())
    print(
        f"where the time goes, {followers} followers, 2 trades timed from the inside (one round "
        f"trip {ms(trip)} alone); per follower:"
    )
    print(f"     the leader's position read: {ms(median(leader_reads))}, before any follower")
    for label, values in segments.items():
        print(f"     {label}: median {ms(median(values))}, max {ms(max(values))}")
    print(
        f"     SQL statements per follower: median {median(queries):.0f}; the followers' CPU "
        f"in the last trade {cpu_all:.2f} s of its {trade.to_return:.2f} s (one process)"
    )
    total = sum(log.samples.values())
    print("     where the copy threads were (5 ms samples, last trade; our frame -> deepest):")
    for where, count in log.samples.most_common(8):
        print(f"       {count / total:4.0%} {where}")
    print(
        f"     broker calls per follower before its order: {calls_before} position reads, so "
        f"{calls_before + 2} round trips on the critical path to the last order (the leader's "
        "read, then these, then the order) even if every follower ran at once"
    )


def main() -> None:
    from _common import stop_children_on_sigterm

    bench_environment(database="bracketeer_bench_copy", redis_prefix="bracketeer-bench-copy")
    if TRADES < 2 or TRADES % 2:
        raise SystemExit(
            "BENCH_TRADES must be even and at least 2 (the leader ends each size flat)"
        )
    stop_children_on_sigterm()
    prepare_database()
    import django

    django.setup()
    from django.conf import settings

    from copytrade.services import copy_group_create, follower_add
    from tests.sim_fixtures import start_simulator
    from trading.mirror_signals import fill_recorded

    # fill_copy runs here; the mirror's hook would also queue it on the shared Celery queue.
    fill_recorded.disconnect(dispatch_uid="copytrade.leader_fill")
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool") or {}
    print(
        f"copy bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; simulator "
        f"latency {LATENCY_MS} ms per call; COPY_FOLLOWER_CONCURRENCY "
        f"{settings.COPY_FOLLOWER_CONCURRENCY}; database pool per process "
        f"{pool.get('max_size', 'off')}; {TRADES} trades per size concurrent, "
        "2 sequential"
    )
    redis_clear()
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:5]
    with start_simulator() as sim:
        os.environ["SIMULATOR_URL"] = sim.base_url
        settings.SIMULATOR_URL = sim.base_url
        sim.control.set_price(SYMBOL, "18000.00")
        owner = owner_make()
        leader = login_make(sim, owner, f"cl{run_id}", 1)
        logins = [
            login_make(sim, owner, f"cf{run_id}{i}", PER_LOGIN)
            for i in range(-(-max(SIZES) // PER_LOGIN))
        ]
        from accounts.models import Subaccount

        leader_account = Subaccount.objects.get(connection=leader.connection)
        accounts = list(
            Subaccount.objects.filter(connection__in=[x.connection for x in logins]).order_by(
                "connection_id", "broker_account_id"
            )
        )
        group = copy_group_create(user=owner, name="Bench", leader=leader_account)
        token = rest_token(sim, leader)
        sim.control.faults(latency_ms=LATENCY_MS)
        trip = one_round_trip(leader)
        print(f"one broker round trip (a position read, alone): {ms(trip)}")
        concurrency = settings.COPY_FOLLOWER_CONCURRENCY
        with Listener(sim, leader) as listener:
            added, last, last_sequential = 0, 0.0, 0.0
            for n in SIZES:
                for account in accounts[added:n]:
                    follower_add(group=group, subaccount=account, ratio=Decimal(1))
                added = n
                settings.COPY_FOLLOWER_CONCURRENCY = concurrency
                concurrent = [
                    trade_measure(sim, leader, listener, token, ("Buy", "Sell")[i % 2], n)
                    for i in range(TRADES)
                ]
                # Sequential: the per-follower path (no batch), one follower at a time.
                settings.COPY_FOLLOWER_CONCURRENCY, settings.FANOUT_BATCH = 1, False
                sequential = [
                    trade_measure(sim, leader, listener, token, ("Buy", "Sell")[i % 2], n)
                    for i in range(2)  # a buy and a sell: the leader ends flat
                ]
                settings.COPY_FOLLOWER_CONCURRENCY, settings.FANOUT_BATCH = concurrency, True
                last, last_sequential = size_report(n, concurrent, sequential, trip)
            # Timed from the inside: the per-follower path (what resumed, busy or special
            # followers take; the batch's own stages are the call -> order figures above).
            settings.FANOUT_BATCH = False
            breakdown(sim, leader, listener, token, max(SIZES), trip)
            settings.FANOUT_BATCH = True
        print(
            f"goal: {max(SIZES)} followers in under 2x one round trip ({ms(2 * trip)}), "
            f"sequential would be {max(SIZES)}x: {ms(last)} = {last / trip:.0f} round trips, "
            f"{'met' if last < 2 * trip else 'missed'}; sequential {ms(last_sequential)} = "
            f"{last_sequential / trip:.0f} round trips. Bench took "
            f"{time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
