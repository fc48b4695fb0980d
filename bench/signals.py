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

bench_environment(database="bracketeer_bench", redis_prefix="bracketeer-bench")
# The intake figure fires 200 alerts/s at one webhook URL: far past the per-URL limit that
# protects production (WEBHOOK_ALERTS_PER_MINUTE), which would answer most of them 429.
os.environ["WEBHOOK_ALERTS_PER_MINUTE"] = "10000000"
RATE = int(os.environ.get("BENCH_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "40"))


def worker(concurrency_per_signal: int) -> subprocess.Popen[bytes]:
    proc = start(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "signals",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        env={"SIGNAL_ACCOUNT_CONCURRENCY": str(concurrency_per_signal)},
    )
    time.sleep(6)
    return proc


def main() -> None:
    stop_children_on_sigterm()
    prepare_database()
    import django

    django.setup()
    import httpx

    # A clean slate: queued messages of an earlier, interrupted run would be measured too.
    redis_clear()

    from accounts.models import BrokerConnection, Subaccount, User
    from tests.sim_fixtures import start_simulator
    from trading.brokers.services import broker_connection_create
    from trading.models import Signal, Strategy, Trader, TraderAccount

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

            def strategy_with(n: int, start_at: int, name: str) -> Strategy:
                strategy = Strategy.objects.create(
                    user=user,
                    name=f"{name}-{run_id}",
                    on_same_direction="ignore",
                    take_profits=[
                        {"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}
                    ],
                    stop_distance="10",
                    stop_unit="ticks",
                )
                if n > 0:
                    trader = Trader.objects.create(
                        user=user, strategy=strategy, name=f"t-{name}-{run_id}"
                    )
                    TraderAccount.objects.bulk_create(
                        [
                            TraderAccount(trader=trader, subaccount=s)
                            for s in subs[start_at : start_at + n]
                        ]
                    )
                return strategy

            sim.control.set_price("MNQZ6", "18000.00")
            client = httpx.Client(base_url=base, timeout=10)
            warm = strategy_with(0, 0, "warm")
            for i in range(40):  # every web process answers a few before anything is measured
                httpx.post(
                    f"{base}/webhooks/tradingview/{warm.webhook_token}/",
                    content=json.dumps({"action": "buy", "ticker": "MNQZ6", "id": f"warm-{i}"}),
                )

            # 1. acknowledge time at a fixed rate
            intake = strategy_with(0, 0, "intake")
            for rate in sorted({50, RATE}):
                latencies, failed, achieved = asyncio.run(
                    fire(base, intake.webhook_token, rate, SECONDS)
                )
                print(
                    f"1. webhook acknowledge at {rate}/s offered ({achieved:.0f}/s achieved), {len(latencies)} ok, "
                    f"{failed} failed: p50 {pct(latencies, 50):.1f} ms p99 {pct(latencies, 99):.1f} ms "
                    "(target p99 < 25 ms at 200/s)"
                )

            # The worker executes every intake alert (a strategy without accounts): let it
            # finish, and say how fast it went, before latency is measured on a quiet system.
            drain_started = time.perf_counter()
            pending = Signal.objects.filter(strategy=intake).exclude(status="done")
            while pending.exists():
                if time.perf_counter() - drain_started > 600:
                    raise SystemExit("the worker did not finish the intake alerts in 600 s")
                time.sleep(0.2)
            drained = Signal.objects.filter(strategy=intake).count()
            drain_seconds = time.perf_counter() - drain_started
            print(
                f"   the worker finished all {drained} intake alerts {drain_seconds:.1f} s after "
                "the last was acknowledged"
            )

            # 2. webhook -> entry order at the simulator, one alert at a time
            single = strategy_with(1, 0, "single")
            samples = []
            for i in range(ENTRIES + 1):  # round 0 warms the login (token, connections)
                for action in ("buy", "close"):
                    sent = time.time()
                    answer = client.post(
                        f"/webhooks/tradingview/{single.webhook_token}/",
                        content=json.dumps(
                            {"action": action, "ticker": "MNQZ6", "id": f"{run_id}-{i}-{action}"}
                        ),
                    )
                    signal_id = answer.json()["signal_id"]
                    wait_done(Signal, signal_id)
                    if action == "buy" and i > 0:
                        samples.append((entry_time(sim, signal_id) - sent) * 1000)
            print(
                f"2. webhook -> entry at the simulator, {len(samples)} entries: p50 {pct(samples, 50):.1f} ms "
                f"p99 {pct(samples, 99):.1f} ms (target p50 < 30 ms, p99 < 100 ms)"
            )

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
    deadline = time.monotonic() + timeout
    while (
        signal_model.objects.filter(pk=signal_id).values_list("status", flat=True).first() != "done"
    ):
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


def fan_out(client: Any, sim: Any, signal_model: Any, strategy: Any, n: int) -> float:
    sent = time.time()
    answer = client.post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        content=json.dumps({"action": "buy", "ticker": "MNQZ6", "id": uuid.uuid4().hex}),
    )
    signal_id = answer.json()["signal_id"]
    wait_done(signal_model, signal_id, timeout=300)
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
