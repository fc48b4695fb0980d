"""Real Celery worker and beat processes for tests (never eager mode).

The processes get the test database's name and the tests' Redis key prefix, so they work on
exactly what the test wrote (tests that use them must commit: ``transaction=True``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def process_env() -> dict[str, str]:
    """The environment a child process needs to see the test database."""
    db = connection.settings_dict
    env = dict(os.environ)
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env["DATABASE_URL"] = (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
        f"{db['NAME']}"
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def celery_bin() -> str:
    return str(Path(sys.executable).parent / "celery")


def log_path_for(log_name: str) -> Path:
    return Path("/tmp") / f"bracketeer-test-{log_name}-{uuid.uuid4().hex[:8]}.log"


@contextmanager
def running(
    cmd: list[str], *, log_name: str, log_path: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` running in its own session, its output in ``log_path`` (a new /tmp file named
    after ``log_name`` when not given); stopped (SIGTERM, then SIGKILL) on exit."""
    log_path = log_path or log_path_for(log_name)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def worker_cmd(*, queues: str = "signals,copytrade,default", concurrency: int = 1) -> list[str]:
    return [
        celery_bin(),
        "-A",
        "config",
        "worker",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
        "-n",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]


def beat_cmd() -> list[str]:
    return [celery_bin(), "-A", "config", "beat", "--loglevel", "INFO"]


def streams_cmd(*, refresh_seconds: float = 3.0, heartbeat_seconds: float = 5.0) -> list[str]:
    """The position monitor process, as the Procfile runs it (faster refresh for tests)."""
    return [
        sys.executable,
        "manage.py",
        "run_streams",
        "--refresh-seconds",
        str(refresh_seconds),
        "--heartbeat-seconds",
        str(heartbeat_seconds),
    ]


def wait_for(predicate: object, *, timeout: float, what: str, interval: float = 0.1) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_python(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` in the project root (a real start-up path), capturing output."""
    return run_cmd([sys.executable, *args], env=env, timeout=timeout)


def run_cmd(
    cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def web_running(*, log_name: str = "web") -> Iterator[tuple[str, Path]]:
    """A real uvicorn serving ``config.asgi`` (HTTP and the browser's WebSockets) on a free
    port, as the Procfile's web process does. Yields its base URL and its log file."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log_path = log_path_for(log_name)
    cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    with running(cmd, log_name=log_name, log_path=log_path):
        wait_for(up, timeout=60, what="uvicorn to answer")
        yield base, log_path
