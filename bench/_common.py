"""What the benchmarks that start real processes share: their own database and Redis prefix,
child processes (started in their own session, stopped with it), a uvicorn on ``config.asgi``,
a process's memory and CPU time, percentiles.

Import it from a bench script (``from _common import ...``: the script's folder is on the path)
and call `bench_environment` before Django is set up.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The tests' process helpers, for the bench scripts too (neither needs Django set up).
from tests.processes import stop as stop  # noqa: E402
from tests.sim_fixtures import free_port as free_port  # noqa: E402


def bench_environment(*, database: str, redis_prefix: str) -> None:
    """Point this process and every child it starts at the bench's own database and Redis
    prefix (never the demo's or the tests')."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_KEY_PREFIX": redis_prefix,
        }
    )


def prepare_database() -> None:
    subprocess.run([sys.executable, "scripts/ensure_db.py"], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def redis_clear() -> None:
    """Delete every key under the bench's prefix: leases, queued messages or states of an
    earlier, interrupted run would be measured too. Needs Django set up."""
    from config.redis import redis_client

    client = redis_client()
    stale = list(client.scan_iter(match=f"{os.environ['REDIS_KEY_PREFIX']}:*"))
    if stale:
        client.delete(*stale)


def start(
    cmd: list[str], env: dict[str, str] | None = None, *, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """``cmd`` in its own session (so `stop` ends it and its children); its output to ``log``
    when given, else discarded."""
    full_env = {**os.environ, **(env or {})}
    if log is None:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def web_start(*, workers: int, log: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn serving ``config.asgi`` (HTTP and the browser's WebSockets) on a free port, as
    in production; returns once it answers /healthz, with its base URL."""
    import httpx

    port = free_port()
    proc = start(
        [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise SystemExit("uvicorn did not answer /healthz within 60 s")
        time.sleep(0.2)


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the process and every living descendant: a Celery worker
    and its pool processes, uvicorn and its workers. (A descendant that has exited is not
    counted: read before and after a window while the processes live.)"""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo += children.get(current, [])
    return total


def rss_settled_kb(pid: int) -> int:
    """The median of five readings after two quiet seconds."""
    time.sleep(2)
    readings = []
    for _ in range(5):
        readings.append(rss_kb(pid))
        time.sleep(0.2)
    return int(statistics.median(readings))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def sim_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally blocks: children stopped


def stop_children_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
