"""Which ASGI server runs the web process? Measured, not assumed.

Starts each candidate on the same Django application (one process each), drives it from a
separate load process with a fixed number of concurrent keep-alive connections, and prints
requests/s and latency percentiles per endpoint, with each server's ratio to uvicorn.

    scripts/bootstrap.sh --group bench && .venv/bin/python bench/asgi_servers.py
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
ENDPOINTS = ("/accounts/login/", "/healthz")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def servers(port: int) -> dict[str, list[str]]:
    return {
        "uvicorn": [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        "daphne": [str(BIN / "daphne"), "-p", str(port), "-v", "0", "config.asgi:application"],
        "granian": [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
            "config.asgi:application",
        ],
    }


async def drive(base: str, path: str) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    remaining = REQUESTS

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 500 and path != "/healthz":
                errors += 1

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        for _ in range(50):  # warm-up
            await client.get(path)
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return REQUESTS / elapsed, latencies, errors


def wait_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/accounts/login/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {base} did not come up")


def main() -> None:
    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    for name in ("uvicorn", "daphne", "granian"):
        port = free_port()
        cmd = servers(port)[name]
        if not Path(cmd[0]).exists():
            print(f"{name}: not installed (scripts/bootstrap.sh --group bench)")
            continue
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base)
            for path in ENDPOINTS:
                rps, lat, errors = asyncio.run(drive(base, path))
                q = statistics.quantiles(lat, n=100)
                results[(name, path)] = (rps, q[49], q[98])
                print(
                    f"{name:8} {path:18} {rps:8.0f} req/s  p50 {q[49]:6.1f} ms  "
                    f"p99 {q[98]:6.1f} ms  errors {errors}"
                )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
    print(
        f"\n{REQUESTS} requests per endpoint, {CONCURRENCY} concurrent connections, "
        "one server process, load generator on the same 2-core machine"
    )
    for path in ENDPOINTS:
        base_rps = results.get(("uvicorn", path), (0.0, 0.0, 0.0))[0]
        for name in ("daphne", "granian"):
            if (name, path) in results and base_rps:
                print(
                    f"{path:18} {name:8} throughput = {results[(name, path)][0] / base_rps:.2f}x uvicorn"
                )


if __name__ == "__main__":
    main()
