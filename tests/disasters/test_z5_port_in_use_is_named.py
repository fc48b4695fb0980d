"""Z5 — another program held the port; the service failed to start with a cryptic error.

Invariant: a port already in use is a clear start-up error naming the port.
"""

from __future__ import annotations

import errno
import socket

import pytest
from django.db import connection

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


def _time_wait_on_a_free_port() -> int:
    """A port whose listener is gone but whose server side of a connection is in TIME-WAIT
    (the server closed first, as a stopped web server does): a demo restarted at once. The
    listener sets SO_REUSEADDR as uvicorn and asyncio servers do (its connections inherit it)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server side closes first: it is the one left in TIME-WAIT
        assert client.recv(1) == b""
        client.close()
    return port


@pytest.mark.django_db
def test_a_port_with_only_time_wait_connections_left_is_free() -> None:
    port = _time_wait_on_a_free_port()
    with socket.socket() as plain:  # the situation is real: a bind without SO_REUSEADDR fails
        try:
            plain.bind(("127.0.0.1", port))
        except OSError as exc:
            assert exc.errno == errno.EADDRINUSE
        else:
            pytest.fail("no TIME-WAIT left on the port: the test proves nothing")
    assert port_problem(host="127.0.0.1", port=port) is None
    test_db = connection.settings_dict["NAME"]  # the test database: exists on any machine
    result = run_python(
        "manage.py",
        "preflight",
        "--port",
        str(port),
        env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{test_db}"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ports are ready" in result.stdout


def test_a_listener_next_to_time_wait_connections_still_counts_as_taken() -> None:
    port = _time_wait_on_a_free_port()
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        problem = port_problem(host="127.0.0.1", port=port)
    assert problem is not None and f"Port {port} on 127.0.0.1 is already in use" in problem
