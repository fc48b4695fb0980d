"""D34 — the dead-subscription threshold was too aggressive: healthy streams were torn down
and reconnected until Tradovate answered with a 429 storm.

Invariant: dead-connection detection comes from heartbeats with a sane threshold: a quiet but
heartbeating stream is kept; a stream with no frame at all is detected and replaced.
"""

from __future__ import annotations

from tests.brokers.streams import demo_token, make_socket, run_sockets
from tests.sim_fixtures import start_simulator
from trading.brokers.tradovate.ws import CLIENT_HEARTBEAT_SECONDS, DEAD_AFTER_SECONDS


def test_the_default_threshold_tolerates_several_missed_heartbeats() -> None:
    assert DEAD_AFTER_SECONDS >= 4 * CLIENT_HEARTBEAT_SECONDS


def test_a_quiet_stream_with_heartbeats_is_kept() -> None:
    with start_simulator(heartbeat_ms=300) as sim:
        socket = make_socket(sim.ws_url, demo_token(sim.rest_url), dead_after=1.5)
        elapsed: list[float] = []

        def quiet_for_four_seconds() -> None:
            import time

            time.sleep(4)
            elapsed.append(4)

        run_sockets(
            [socket], timeout=20, during=quiet_for_four_seconds, until=lambda: bool(elapsed)
        )
        assert socket.stats.dead_detected == 0
        assert socket.stats.connects == 1


def test_a_silent_stream_is_detected_and_replaced() -> None:
    with start_simulator(heartbeat_ms=60_000) as sim:
        socket = make_socket(
            sim.ws_url, demo_token(sim.rest_url), dead_after=1.5, heartbeat_every=0.5
        )
        run_sockets([socket], timeout=30, until=lambda: socket.stats.syncs >= 2)
        assert socket.stats.dead_detected >= 1
        assert "no frame from Tradovate" in " ".join(socket.stats.history)
