"""Z5 — another program held the port; the service failed to start with a cryptic error.

Invariant: a port already in use is a clear start-up error naming the port.
"""

from __future__ import annotations

import socket

from config.management.commands.preflight import port_problem
from tests.processes import run_python


def test_a_taken_port_is_named_and_a_free_one_passes() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        problem = port_problem(host="127.0.0.1", port=port)
        assert problem is not None
        assert f"Port {port} on 127.0.0.1 is already in use by another program" in problem
    assert port_problem(host="127.0.0.1", port=port) is None


def test_preflight_refuses_to_start_on_a_taken_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_python("manage.py", "preflight", "--port", str(port), timeout=60)
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"WEB_PORT={port + 1}" in result.stderr
