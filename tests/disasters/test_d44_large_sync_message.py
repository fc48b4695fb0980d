"""D44 — the WebSocket crashed in a loop on "message too big" when the sync grew.

Invariant: the client accepts the largest real sync payload. The simulator pads the snapshot
past 5 MB; the websockets library's default limit (1 MiB) would refuse it.
"""

from __future__ import annotations

from typing import Any

from tests.brokers.streams import demo_token, make_socket, run_sockets
from trading.brokers.tradovate.ws import MAX_MESSAGE_BYTES


def test_a_sync_snapshot_over_5_mb_is_read(sim: Any) -> None:
    sim.control.faults(oversized_sync_bytes=6_000_000)
    socket = make_socket(sim.ws_url, demo_token(sim.rest_url))
    run_sockets([socket], timeout=60, until=lambda: socket.stats.syncs >= 1)
    assert socket.stats.sync_bytes >= 6_000_000
    assert socket.stats.connects == 1  # read on the first try, no crash loop


def test_the_limit_is_far_above_real_payloads() -> None:
    assert MAX_MESSAGE_BYTES >= 32 * 1024 * 1024
