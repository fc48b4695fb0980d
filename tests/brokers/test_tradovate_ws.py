"""The user WebSocket against the simulator: authorize, sync, props events, reconnects."""

from __future__ import annotations

from typing import Any

from tests.brokers.streams import demo_token, make_socket, run_sockets
from trading.brokers.tradovate.ws import StreamEvent


def test_sync_snapshot_then_props_events_for_a_fill(sim: Any) -> None:
    token = demo_token(sim.rest_url)
    events: list[StreamEvent] = []
    socket = make_socket(sim.ws_url, token, events=events)

    def place_order() -> None:
        import httpx

        httpx.post(
            f"{sim.rest_url}/order/placeorder",
            headers={"Authorization": f"Bearer {token.access_token}"},
            json={
                "accountSpec": "DEMO1001",
                "accountId": 1001,
                "action": "Buy",
                "symbol": "MESZ6",
                "orderQty": 1,
                "orderType": "Market",
                "isAutomated": True,
                "clOrdId": "ws-1",
            },
            timeout=5,
        ).raise_for_status()

    run_sockets(
        [socket],
        timeout=20,
        during=place_order,
        until=lambda: any(e.entity_type == "fill" for e in events),
    )
    snapshot = events[0]
    assert snapshot.entity_type == "sync"
    assert {a["name"] for a in snapshot.entity["accounts"]} == {"DEMO1001", "DEMO1002"}
    kinds = {(e.entity_type, e.event_type) for e in events[1:]}
    assert ("order", "Created") in kinds and ("fill", "Created") in kinds


def test_a_dropped_socket_reconnects_and_resyncs(sim: Any) -> None:
    token = demo_token(sim.rest_url)
    socket = make_socket(sim.ws_url, token)
    run_sockets(
        [socket],
        timeout=30,
        during=lambda: sim.control.drop(),
        until=lambda: socket.stats.syncs >= 2,
    )
    assert socket.stats.connects == 2


def test_the_server_closing_the_oldest_connection_is_survived(sim: Any) -> None:
    sim.control.faults(max_ws_per_user=1)
    token = demo_token(sim.rest_url)
    first, second = (
        make_socket(sim.ws_url, token, fresh_tokens_from=sim.rest_url) for _ in range(2)
    )
    run_sockets(
        [first, second],
        timeout=30,
        until=lambda: (
            first.stats.syncs >= 1
            and second.stats.syncs >= 1
            and (first.stats.connects + second.stats.connects) >= 3
        ),
    )
    reasons = " ".join(first.stats.history + second.stats.history)
    assert "ConnectionQuotaReached" in reasons
