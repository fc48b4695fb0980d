"""Broker-layer benchmark against a real simulator process.

1. One REST order round trip (place a market order, answer received): p50/p99 over N orders,
   with the simulator's added latency 0 and then 50 ms (a realistic broker hop).
2. The connect storm: 50 streams of one login start at once. Gated (2 at a time, spaced) vs
   ungated: time until all are synced, the simulator's max concurrent handshakes, and 429s.

    .venv/bin/python bench/broker.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REDIS_KEY_PREFIX", "bracketeer-bench")

import django  # noqa: E402

django.setup()

from tests.brokers.streams import demo_token, make_socket, run_sockets  # noqa: E402
from tests.sim_fixtures import start_simulator  # noqa: E402
from trading.brokers.base import OrderRequest, OrderType, Side  # noqa: E402
from trading.brokers.cooldown import login_key  # noqa: E402
from trading.brokers.tradovate.broker import TradovateBroker  # noqa: E402
from trading.brokers.tradovate.rest import TradovateREST  # noqa: E402
from trading.brokers.tradovate.ws import ConnectGate  # noqa: E402

ORDERS = int(os.environ.get("BENCH_ORDERS", "300"))


def order_round_trips(sim: object, latency_ms: int) -> list[float]:
    sim.control.reset()  # type: ignore[attr-defined]
    sim.control.faults(latency_ms=latency_ms)  # type: ignore[attr-defined]
    token = demo_token(sim.rest_url)  # type: ignore[attr-defined]
    rest = TradovateREST(
        rest_url=sim.rest_url,  # type: ignore[attr-defined]
        login=login_key(environment=f"bench-{uuid.uuid4()}", username="demo"),
        access_token=token.access_token,
    )
    broker = TradovateBroker(rest)
    samples = []
    for i in range(ORDERS):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        request = OrderRequest(
            account_id=1001,
            account_name="DEMO1001",
            symbol="MESZ6",
            side=side,
            qty=1,
            order_type=OrderType.MARKET,
            cl_ord_id=f"bench-{i}",
        )
        started = time.perf_counter()
        broker.place_order(request)
        samples.append((time.perf_counter() - started) * 1000)
    rest.close()
    return samples


def storm(sim: object, *, gated: bool) -> tuple[float, int, int]:
    sim.control.reset()  # type: ignore[attr-defined]
    sim.control.faults(connect_delay_ms=50)  # type: ignore[attr-defined]
    token = demo_token(sim.rest_url)  # type: ignore[attr-defined]
    gate = ConnectGate(limit=2, spacing=0.12) if gated else ConnectGate(limit=50, spacing=0)
    sockets = [
        make_socket(sim.ws_url, token, gate=gate, max_backoff=2.0, cooldown_seconds=1)  # type: ignore[attr-defined]
        for _ in range(50)
    ]
    seconds = run_sockets(
        sockets, timeout=300, until=lambda: all(s.stats.syncs >= 1 for s in sockets)
    )
    counters = sim.control.counters()  # type: ignore[attr-defined]
    return seconds, int(counters["ws_connecting_max"]), int(counters["http_429_sent"])


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


def main() -> None:
    with start_simulator() as sim:
        print(f"REST order round trip, {ORDERS} market orders, one keep-alive connection")
        base = None
        for latency in (0, 50):
            samples = order_round_trips(sim, latency)
            p50, p99 = pct(samples, 50), pct(samples, 99)
            base = base or p50
            print(
                f"  simulator latency {latency:3d} ms: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                f"(client overhead over the added latency at p50: {p50 - latency:5.2f} ms)"
            )
        print("Connect storm: 50 streams of one login starting at once (50 ms handshake)")
        for gated in (True, False):
            seconds, most, rejected = storm(sim, gated=gated)
            label = "gated (2 at once, 120 ms apart)" if gated else "ungated (naive)             "
            print(
                f"  {label}: all synced in {seconds:5.2f} s, max concurrent handshakes {most:2d}, "
                f"HTTP 429 {rejected}"
            )


if __name__ == "__main__":
    main()
