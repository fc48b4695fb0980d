"""Simulator fixtures (see simulator/SPEC.md, last section).

- ``simulator_server`` (session): one ``python -m simulator`` subprocess on a free port.
- ``sim`` (function): that server after ``POST /_sim/reset``; ``sim.control`` drives it.
- ``start_simulator(**cli_options)``: a context manager for tests that need their own process
  (``start_simulator(heartbeat_ms=200, client_timeout_ms=600)`` -> ``--heartbeat-ms 200 ...``).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


class SimControl:
    """The simulator's control API (``/_sim/...``) over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10.0, trust_env=False)

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.post(f"/_sim/{path}", json=body or {})
        response.raise_for_status()
        return response.json()

    def reset(self) -> Any:
        return self._post("reset")

    def add_user(self, name: str, password: str, accounts: list[str]) -> Any:
        return self._post("users", {"name": name, "password": password, "accounts": accounts})

    def set_price(self, symbol: str, price: float | int | str) -> Any:
        return self._post("price", {"symbol": symbol, "price": price})

    def step(self, symbol: str, ticks: int) -> Any:
        return self._post("step", {"symbol": symbol, "ticks": ticks})

    def faults(self, **switches: Any) -> Any:
        return self._post("faults", switches)

    def counters(self) -> Any:
        response = self.client.get("/_sim/counters")
        response.raise_for_status()
        return response.json()

    def state(self) -> Any:
        response = self.client.get("/_sim/state")
        response.raise_for_status()
        return response.json()

    def sockets(self) -> Any:
        """The open sockets: ``[{"userId": id or None, "marketData": bool, "openSeconds"}]``."""
        response = self.client.get("/_sim/sockets")
        response.raise_for_status()
        return response.json()

    def drop(self, user_id: int | None = None) -> Any:
        return self._post("drop", {} if user_id is None else {"userId": user_id})

    def close(self) -> None:
        self.client.close()


@dataclass
class SimulatorServer:
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    control: SimControl = field(init=False)

    def __post_init__(self) -> None:
        self.control = SimControl(self.base_url)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/websocket"

    @property
    def md_url(self) -> str:
        return f"ws://{self.host}:{self.port}/md/v1/websocket"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(server: SimulatorServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"simulator exited at start-up:\n{server.log()}")
        try:
            if (
                httpx.get(
                    f"{server.base_url}/_sim/counters", timeout=1.0, trust_env=False
                ).status_code
                == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"simulator did not answer within {timeout} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def start_simulator(**cli_options: Any) -> Iterator[SimulatorServer]:
    """Run ``python -m simulator`` with these options (``walk_ms=5`` -> ``--walk-ms 5``)."""
    port = int(cli_options.pop("port", 0)) or free_port()
    args = [sys.executable, "-m", "simulator", "--port", str(port)]
    for key, value in cli_options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    log_path = Path("/tmp") / f"bracketeer-test-simulator-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = SimulatorServer(port=port, process=process, log_path=log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.control.close()
        _stop(process)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[SimulatorServer]:
    with start_simulator() as server:
        yield server


@pytest.fixture
def sim(simulator_server: SimulatorServer) -> SimulatorServer:
    simulator_server.control.reset()
    return simulator_server
