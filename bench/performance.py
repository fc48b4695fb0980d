"""Trades and performance benchmark (issue 12, Figures): the metrics of 100,000 trades, and the
pages of a user with 10,000 trades, on this machine's PostgreSQL.

The bench's own database. Trade rows are written in bulk here (the bench measures reading
them; building them from fills is measured by the tests' rebuild), each linked to a signal of
one of 5 strategies, on 4 accounts, over a year of weekdays. Then:
- `metrics_for` over all 100,000 trades of one user: wall time (median of 5), the SQL time and
  the query count (one query: no N+1), and `metrics_of` alone.
- `strategies_ranked` and `daily_pnl` over the same trades.
- The dashboard, the trades page and the execution page of a user with 10,000 trades, through
  Django's test client: each page's queries (count and their summed time in PostgreSQL as the
  driver sees it) and the whole response time, median of 5.

    .venv/bin/python bench/performance.py     (BENCH_TRADES: the big user's trades; 100000)
(Named performance.py: a bench/analytics.py would shadow the analytics app for the script.)
Goals: metrics of 100,000 trades < 1 s; the dashboard's queries for 10,000 trades < 100 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from _common import bench_environment, prepare_database

bench_environment(database="bracketeer_bench_analytics", redis_prefix="bracketeer-bench-analytics")
BIG = int(os.environ.get("BENCH_TRADES", "100000"))
SMALL = 10_000
RUNS = 5

import django  # noqa: E402

prepare_database()
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import BrokerConnection, Subaccount, User  # noqa: E402
from analytics.metrics import ClosedTrade, metrics_of  # noqa: E402
from analytics.models import Trade  # noqa: E402
from analytics.selectors import TradeScope, daily_pnl, metrics_for, strategies_ranked  # noqa: E402
from trading.models import Signal, Strategy  # noqa: E402


def seed(email: str, count: int) -> User:
    """``count`` closed trades of one user (5 strategies, 4 accounts), made once."""
    user = User.objects.filter(email=email).first()
    if (
        user is not None
        and Trade.objects.filter(subaccount__connection__user=user).count() == count
    ):
        return user
    if user is not None:
        user.delete()
    user = User.objects.create_user(email, "bench-password-2026")
    user.time_zone = "America/New_York"
    user.save()
    connection_ = BrokerConnection.objects.create(
        user=user, label="Bench", broker=BrokerConnection.Broker.SIMULATOR, username="bench"
    )
    accounts = [
        Subaccount.objects.create(connection=connection_, broker_account_id=9000 + n, name=f"B{n}")
        for n in range(4)
    ]
    strategies = [Strategy.objects.create(user=user, name=f"Bench {n}") for n in range(5)]
    rng = random.Random(count)
    start = datetime.now(UTC) - timedelta(days=365)
    signals: list[Signal] = []
    trades: list[Trade] = []
    for n in range(count):
        opened = start + timedelta(seconds=n * 365 * 86400 // count)
        closed = opened + timedelta(seconds=rng.randint(30, 3600))
        points = Decimal(rng.randint(-40, 48)) / 4
        gross = points * 2
        signals.append(
            Signal(
                strategy=strategies[n % 5],
                idempotency_key=f"bench-{email}-{n}",
                raw_body="{}",
                status=Signal.Status.DONE,
                received_at=opened,
            )
        )
        trades.append(
            Trade(
                subaccount=accounts[n % 4],
                contract_id=3000001,
                symbol="MNQZ6",
                direction=1 if n % 2 else -1,
                opened_at=opened,
                closed_at=closed,
                max_qty=1,
                contracts=2,
                entry_price=Decimal(20000),
                exit_price=Decimal(20000) + points,
                points=points,
                gross_pnl=gross,
                fees=Decimal("1.24"),
                net_pnl=gross - Decimal("1.24"),
                mfe=max(gross, Decimal(0)) + 4,
                mae=min(gross, Decimal(0)) - 2,
            )
        )
    Signal.objects.bulk_create(signals, batch_size=5000)
    Trade.objects.bulk_create(trades, batch_size=5000)
    through = Trade.signals.through
    through.objects.bulk_create(
        [through(trade_id=t.pk, signal_id=s.pk) for t, s in zip(trades, signals, strict=True)],
        batch_size=5000,
    )
    return user


@contextmanager
def sql_timed() -> Iterator[list[float]]:
    """The time of each query run inside, in ms, as the driver sees it."""
    spent: list[float] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    with connection.execute_wrapper(wrapper):
        yield spent


def median_ms(run: Callable[[], Any]) -> tuple[float, int, float]:
    """(median wall ms, queries of the last run, median SQL ms) over RUNS runs."""
    walls, sqls, queries = [], [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured, sql_timed() as spent:
            started = time.perf_counter()
            run()
            walls.append((time.perf_counter() - started) * 1000)
        sqls.append(sum(spent))
        queries = len(captured.captured_queries)
    return statistics.median(walls), queries, statistics.median(sqls)


def main() -> None:
    made = time.perf_counter()
    big = seed("big@bench-analytics.example", BIG)
    small = seed("small@bench-analytics.example", SMALL)
    print(f"seeded {BIG:,} + {SMALL:,} trades in {time.perf_counter() - made:.1f} s (once)")
    connection.cursor().execute("ANALYZE")

    scope = TradeScope(user=big, zone="America/New_York")
    rows: list[tuple[str, float, int, float, str]] = []
    wall, queries, sql = median_ms(lambda: metrics_for(scope=scope))
    rows.append((f"metrics_for, {BIG:,} trades", wall, queries, sql, "< 1,000 ms"))
    closed = [
        ClosedTrade(net=n, gross=g, fees=f, opened_at=o, closed_at=c)
        for n, g, f, o, c in Trade.objects.filter(subaccount__connection__user=big).values_list(
            "net_pnl", "gross_pnl", "fees", "opened_at", "closed_at"
        )
        if n is not None and g is not None and c is not None
    ]
    started = time.perf_counter()
    metrics_of(closed, zone="America/New_York")
    pure = (time.perf_counter() - started) * 1000
    rows.append((f"  of which metrics_of (pure), {BIG:,}", pure, 0, 0.0, ""))
    wall, queries, sql = median_ms(lambda: strategies_ranked(scope=scope))
    rows.append((f"strategies_ranked, {BIG:,} trades", wall, queries, sql, ""))
    month = datetime.now(UTC).date().replace(day=1)
    wall, queries, sql = median_ms(lambda: daily_pnl(scope=scope, month=month))
    rows.append((f"daily_pnl (a month), {BIG:,} trades", wall, queries, sql, ""))

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(small)
    for name, url, goal in (
        ("dashboard", "/dashboard/", "queries < 100 ms"),
        ("trades page", "/performance/trades/", ""),
        ("trades CSV", "/performance/trades/?format=csv", ""),
        ("execution page", "/performance/execution/", ""),
    ):

        def get(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if response.streaming:
                b"".join(response.streaming_content)  # type: ignore[attr-defined]

        wall, queries, sql = median_ms(get)
        rows.append((f"{name}, {SMALL:,} trades", wall, queries, sql, goal))

    print(f"\n| figure | wall ms (median of {RUNS}) | queries | SQL ms | goal |")
    print("|---|---|---|---|---|")
    for name, wall, queries, sql, goal in rows:
        print(f"| {name} | {wall:.1f} | {queries} | {sql:.1f} | {goal} |")


if __name__ == "__main__":
    main()
