"""Signals benchmark: real web (uvicorn), worker (Celery on Redis), PostgreSQL and simulator.

1. Webhook acknowledge time at a fixed rate (default 200 alerts/s) to a strategy with no
   accounts: what TradingView waits for.
2. Webhook -> entry order received by the simulator, one alert at a time (p50/p99).
3. Fan-out: one alert to 1, 10 and 100 accounts: time until every entry is at the simulator,
   with the executor's concurrency, and 10 accounts sequentially (concurrency 1) as baseline.

    .venv/bin/python bench/signals.py        (BENCH_RATE, BENCH_SECONDS, BENCH_ENTRIES to tune)
Targets (DESIGN.md §9): ack p99 < 25 ms at 200/s; webhook -> entry p50 < 30 ms, p99 < 100 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from _common import (
    BIN,
    bench_environment,
    pct,
    prepare_database,
    redis_clear,
    sim_time,
    start,
    stop,
    stop_children_on_sigterm,
    web_start,
)

RATE = int(os.environ.get("BENCH_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "40"))


def bench_start(*, database: str, redis_prefix: str) -> None:
    """What a signals bench does first: its own database (migrated) and Redis prefix (cleared),
    the webhook limit lifted, its children stopped with it, Django set up."""
    bench_environment(database=database, redis_prefix=redis_prefix)
    # The intake figure fires 200 alerts/s at one webhook URL: far past the per-URL limit that
    # protects production (WEBHOOK_ALERTS_PER_MINUTE), which would answer most of them 429.
    os.environ["WEBHOOK_ALERTS_PER_MINUTE"] = "10000000"
    stop_children_on_sigterm()
    prepare_database()
    import django

    django.setup()
    # A clean slate: queued messages of an earlier, interrupted run would be measured too.
    redis_clear()


# The worker's CPU priority as the Procfile runs it (`nice -n 10`): on shared cores the web's
# acknowledgements go first, the worker takes what is left (figure 1 measures both).
WORKER_NICE = 10


def worker(
    concurrency_per_signal: int,
    *,
    processes: int = 2,
    env: dict[str, str] | None = None,
    nice: int = WORKER_NICE,
) -> subprocess.Popen[bytes]:
    """A Celery worker on queue ``signals`` with ``processes`` pool processes (its main
    process is the returned one, the pool its children), at CPU priority ``nice``."""
    proc = start(
        [
            "nice",
            "-n",
            str(nice),
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "signals",
            "--concurrency",
            str(processes),
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        env={"SIGNAL_ACCOUNT_CONCURRENCY": str(concurrency_per_signal), **(env or {})},
    )
    time.sleep(6)
    return proc


def strategy_make(user: Any, name: str, subaccounts: list[Any]) -> Any:
    """A strategy (a market entry, a take-profit at 20 ticks, a stop at 10) followed by
    ``subaccounts``: one trader per broker connection among them, a TraderAccount each."""
    from trading.models import Strategy, Trader, TraderAccount

    strategy = Strategy.objects.create(
        user=user,
        name=name,
        on_same_direction="ignore",
        take_profits=[{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
        stop_distance="10",
        stop_unit="ticks",
    )
    traders: dict[int, Any] = {}
    for sub in subaccounts:
        if sub.connection_id not in traders:
            traders[sub.connection_id] = Trader.objects.create(
                user=user, strategy=strategy, name=f"t-{name}-{len(traders)}"
            )
    TraderAccount.objects.bulk_create(
        [TraderAccount(trader=traders[s.connection_id], subaccount=s) for s in subaccounts]
    )
    return strategy


def web_warm(base: str, strategy: Any) -> None:
    """Every web process answers a few alerts (to ``strategy``, without accounts) before
    anything is measured."""
    import httpx

    for i in range(40):
        httpx.post(
            f"{base}/webhooks/tradingview/{strategy.webhook_token}/",
            content=json.dumps({"action": "buy", "ticker": "MNQZ6", "id": f"warm-{i}"}),
        )


def intake_figure(base: str, strategy: Any, rates: list[int]) -> list[float]:
    """1. The acknowledge time at each of ``rates`` alerts/s offered for SECONDS to
    ``strategy`` (no accounts) while the worker executes them; then waits until the worker
    has finished them all. Returns the latencies (ms) at the last rate."""
    from trading.models import Signal

    latencies: list[float] = []
    for rate in rates:
        latencies, failed, achieved = asyncio.run(fire(base, strategy.webhook_token, rate, SECONDS))
        print(
            f"1. webhook acknowledge at {rate}/s offered ({achieved:.0f}/s achieved), {len(latencies)} ok, "
            f"{failed} failed: p50 {pct(latencies, 50):.1f} ms p99 {pct(latencies, 99):.1f} ms "
            "(target p99 < 25 ms at 200/s)"
        )

    # The worker executes every intake alert (a strategy without accounts): let it finish,
    # and say how fast it went, before latency is measured on a quiet system.
    drain_started = time.perf_counter()
    pending = Signal.objects.filter(strategy=strategy).exclude(status="done")
    while pending.exists():
        if time.perf_counter() - drain_started > 600:
            raise SystemExit("the worker did not finish the intake alerts in 600 s")
        time.sleep(0.2)
    drained = Signal.objects.filter(strategy=strategy).count()
    drain_seconds = time.perf_counter() - drain_started
    print(
        f"   the worker finished all {drained} intake alerts {drain_seconds:.1f} s after "
        "the last was acknowledged"
    )
    return latencies


def entries_figure(client: Any, sim: Any, strategy: Any, entries: int) -> list[tuple[int, float]]:
    """2. Webhook -> entry order at the simulator, one alert at a time (a buy, then a close):
    ``entries`` measured buys after one that warms the login. Returns (signal id, ms) each."""
    from trading.models import Signal

    run_id = uuid.uuid4().hex[:6]
    samples = []
    for i in range(entries + 1):  # round 0 warms the login (token, connections)
        for action in ("buy", "close"):
            sent, signal_id = alert_post(client, strategy, action, f"{run_id}-{i}-{action}")
            wait_done(Signal, signal_id)
            if action == "buy" and i > 0:
                samples.append((signal_id, (entry_time(sim, signal_id) - sent) * 1000))
    took = [ms for _, ms in samples]
    print(
        f"2. webhook -> entry at the simulator, {len(took)} entries: p50 {pct(took, 50):.1f} ms "
        f"p99 {pct(took, 99):.1f} ms (target p50 < 30 ms, p99 < 100 ms)"
    )
    return samples


def main() -> None:
    bench_start(database="bracketeer_bench", redis_prefix="bracketeer-bench")
    import httpx

    from accounts.models import BrokerConnection, Subaccount, User
    from tests.sim_fixtures import start_simulator
    from trading.brokers.services import broker_connection_create
    from trading.models import Signal

    with start_simulator() as sim:
        os.environ["SIMULATOR_URL"] = sim.base_url
        from django.conf import settings

        settings.SIMULATOR_URL = sim.base_url
        # As in production on 2 cores: one uvicorn process per core (docker/Dockerfile).
        web, base = web_start(workers=2)
        work = worker(settings.SIGNAL_ACCOUNT_CONCURRENCY)
        try:
            run_id = uuid.uuid4().hex[:6]
            user = User.objects.create_user(f"bench-{run_id}@example.com", "bench-password-123")
            accounts = sim.control.add_user(
                f"bench{run_id}", "bench-password", [f"B{run_id}{i:03d}" for i in range(125)]
            )["accounts"]
            connection = broker_connection_create(
                user=user,
                label="bench",
                broker=BrokerConnection.Broker.SIMULATOR,
                username=f"bench{run_id}",
                password="bench-password",
            )
            subs = [
                Subaccount.objects.create(
                    connection=connection, broker_account_id=a["id"], name=a["name"]
                )
                for a in accounts
            ]

            def strategy_with(n: int, start_at: int, name: str) -> Any:
                return strategy_make(user, f"{name}-{run_id}", subs[start_at : start_at + n])

            sim.control.set_price("MNQZ6", "18000.00")
            client = httpx.Client(base_url=base, timeout=10)
            web_warm(base, strategy_with(0, 0, "warm"))

            # 1. acknowledge time at a fixed rate
            intake_figure(base, strategy_with(0, 0, "intake"), sorted({50, RATE}))

            # 2. webhook -> entry order at the simulator, one alert at a time
            entries_figure(client, sim, strategy_with(1, 0, "single"), ENTRIES)

            # 3. fan-out
            results = {}
            offset = 1
            for n in (1, 10, 100):
                strategy = strategy_with(n, offset, f"fan{n}")
                offset += n
                results[n] = fan_out(client, sim, Signal, strategy, n)
                print(
                    f"3. fan-out to {n:3d} accounts: all entries at the simulator in {results[n]:7.1f} ms "
                    f"({results[n] / n:.1f} ms per account)"
                )
            stop(work)
            work = worker(1)
            sequential = fan_out(client, sim, Signal, strategy_with(10, 0 + offset, "seq10"), 10)
            print(
                f"   baseline, 10 accounts one after another: {sequential:.1f} ms -> concurrent is "
                f"{sequential / results[10]:.1f}x faster"
            )
        finally:
            stop(work)
            stop(web)


def wait_done(signal_model: Any, signal_id: int, timeout: float = 60) -> None:
    """Until the signal is done; a signal that ends otherwise (failed, partly failed, ...)
    stops the bench with its outcomes' reasons rather than waiting out ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        status = signal_model.objects.filter(pk=signal_id).values_list("status", flat=True).first()
        if status == "done":
            return
        if status in signal_model.FINAL_STATUSES:
            from trading.models import SignalOutcome

            reasons = Counter(
                f"{o.status}: {o.reason or o.error_message}"[:160]
                for o in SignalOutcome.objects.filter(signal_id=signal_id).exclude(status="done")
            )
            raise SystemExit(f"signal {signal_id} ended {status}: {reasons.most_common(3)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"signal {signal_id} not done within {timeout} s")
        time.sleep(0.01)


def entry_time(sim: object, signal_id: int) -> float:
    orders = sim.control.state()["orders"]  # type: ignore[attr-defined]
    stamps = [
        sim_time(o["timestamp"])
        for o in orders
        if str(o.get("clOrdId", "")).startswith(f"bk{signal_id}-")
        and o["clOrdId"].endswith("-entry")
    ]
    return max(stamps)


def alert_post(client: Any, strategy: Any, action: str, alert_id: str = "") -> tuple[float, int]:
    """Sends one alert for ``strategy``; when it was sent (this machine's clock) and its
    signal's id."""
    sent = time.time()
    answer = client.post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        content=json.dumps(
            {"action": action, "ticker": "MNQZ6", "id": alert_id or uuid.uuid4().hex}
        ),
    )
    return sent, int(answer.json()["signal_id"])


def fan_out(
    client: Any,
    sim: Any,
    signal_model: Any,
    strategy: Any,
    n: int,
    *,
    timeout: float = 300,
    on_done: Callable[[int], None] | None = None,
) -> float:
    """A buy to ``strategy``'s accounts (flat): ms from the alert sent to the last entry order
    created at the simulator. ``on_done`` gets the signal's id as soon as it is done."""
    sent, signal_id = alert_post(client, strategy, "buy")
    wait_done(signal_model, signal_id, timeout=timeout)
    if on_done is not None:
        on_done(signal_id)
    return (entry_time(sim, signal_id) - sent) * 1000


async def fire(base: str, token: str, rate: int, seconds: int) -> tuple[list[float], int, float]:
    """Offer ``rate`` alerts/s for ``seconds``; latency is measured from the scheduled send time,
    so a server that falls behind is charged for the queueing it causes.

    A lean HTTP/1.1 client on 64 keep-alive connections (raw asyncio streams): TradingView's
    load does not come from our two cores, so the generator must cost as little CPU as it can
    (httpx's async client cost more CPU per request than the webhook it measured)."""
    host, port = base.removeprefix("http://").split(":")
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        connections.put_nowait(await asyncio.open_connection(host, int(port)))
    latencies: list[float] = []
    failed = 0

    async def one(i: int, at: float) -> None:
        nonlocal failed
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        reader, writer = await connections.get()
        body = json.dumps({"action": "buy", "ticker": "MNQZ6", "id": f"ack-{rate}-{i}-{at}"})
        writer.write(
            f"POST /webhooks/tradingview/{token}/ HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, StopIteration):
            failed += 1
            return  # this connection is gone; the others carry on
        connections.put_nowait((reader, writer))
        if head.split(b" ", 2)[1] != b"200":
            failed += 1
            return
        latencies.append((time.perf_counter() - at) * 1000)

    t0 = time.perf_counter() + 0.2
    await asyncio.gather(*(one(i, t0 + i / rate) for i in range(rate * seconds)))
    elapsed = time.perf_counter() - t0
    while not connections.empty():
        connections.get_nowait()[1].close()
    return latencies, failed, len(latencies) / elapsed


if __name__ == "__main__":
    main()
