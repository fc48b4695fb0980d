"""D39/D40 — a 429 storm when many connections started at once; the fix was semaphore(2) +
spacing.

Invariant: WebSocket connects are gated: at most 2 in progress at once, spaced. Fifty streams
starting together reach the simulator at most two at a time and earn no 429. (The simulator
refuses more than 4 concurrent handshakes with HTTP 429, as Tradovate rate-limits.)
"""

from __future__ import annotations

from typing import Any

from tests.brokers.streams import demo_token, make_socket, run_sockets
from trading.brokers.tradovate.ws import ConnectGate


def test_fifty_streams_start_two_at_a_time_without_a_429(sim: Any) -> None:
    sim.control.faults(connect_delay_ms=50)
    token = demo_token(sim.rest_url)
    # 120 ms apart stays under the simulator's 10 handshakes per second, as 250 ms (the
    # production default) stays under Tradovate's limits.
    gate = ConnectGate(limit=2, spacing=0.12)
    sockets = [make_socket(sim.ws_url, token, gate=gate) for _ in range(50)]
    seconds = run_sockets(
        sockets, timeout=120, until=lambda: all(s.stats.syncs >= 1 for s in sockets)
    )
    counters = sim.control.counters()
    assert counters["ws_connecting_max"] <= 2
    assert counters["http_429_sent"] == 0
    assert all(s.stats.connects == 1 for s in sockets)
    assert seconds >= 49 * 0.12  # spaced, not a burst


def test_without_the_gate_the_simulator_answers_429(sim: Any) -> None:
    """The control: the same storm with no gate is refused, so the test above can fail."""
    sim.control.faults(connect_delay_ms=200)
    token = demo_token(sim.rest_url)
    sockets = [
        make_socket(
            sim.ws_url,
            token,
            gate=ConnectGate(limit=50, spacing=0),
            max_backoff=0.5,
            cooldown_seconds=1,
        )
        for _ in range(20)
    ]
    run_sockets(sockets, timeout=60, until=lambda: sim.control.counters()["http_429_sent"] > 0)
