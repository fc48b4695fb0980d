"""WebSocket: frames, authorize, syncrequest + props events, heartbeats, connection limits."""

from __future__ import annotations

import json
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.sim_fixtures import SimulatorServer, start_simulator
from tests.simulator.helpers import Api, authorized_socket, login, open_socket, rest


def test_server_opens_with_o_and_authorize_answers_200(sim: SimulatorServer) -> None:
    token = login(sim)
    with open_socket(sim) as ws:
        assert ws.recv() == "o"
        ws.ws.send(f"authorize\n0\n\n{token}")
        assert ws.recv() == 'a[{"i":0,"s":200}]'


def test_authorize_with_a_bad_token_is_401(sim: SimulatorServer) -> None:
    with open_socket(sim) as ws:
        assert ws.recv() == "o"
        assert ws.call("authorize", "bogus") == {"i": 1, "s": 401, "d": "Access is denied"}
        assert ws.call("account/list") == {"i": 2, "s": 401, "d": "Access is denied"}


def test_a_request_sent_before_o_is_accepted(sim: SimulatorServer) -> None:
    sim.control.faults(connect_delay_ms=200)
    token = login(sim)
    with open_socket(sim) as ws:
        ws.ws.send(f"authorize\n0\n\n{token}")
        assert ws.recv() == "o"
        assert ws.recv() == 'a[{"i":0,"s":200}]'


def test_rest_endpoints_answer_over_the_socket(sim: SimulatorServer) -> None:
    with authorized_socket(sim, login(sim)) as ws:
        accounts = ws.call("account/list")
        assert accounts["s"] == 200 and [a["id"] for a in accounts["d"]] == [1001, 1002]
        contract = ws.call("contract/find", query="name=MESZ6")
        assert contract["d"]["name"] == "MESZ6"
        missing = ws.call("contract/find", query="name=NOPEZ6")
        assert missing["s"] == 404 and isinstance(missing["d"], str)
        placed = ws.call(
            "order/placeorder",
            {
                "accountId": 1001,
                "action": "Buy",
                "symbol": "MESZ6",
                "orderQty": 1,
                "orderType": "Market",
                "isAutomated": True,
            },
        )
        assert placed["s"] == 200 and "orderId" in placed["d"]
    assert sim.control.counters()["orders_placed"] == 1


def test_syncrequest_snapshot_then_props_events_on_a_fill(sim: SimulatorServer) -> None:
    api = Api(sim)
    resting = api.place(action="Buy", orderType="Limit", price=4990, clOrdId="rest-1")["orderId"]
    with authorized_socket(sim, api.token) as ws:
        snapshot = ws.call("user/syncrequest", {"users": [1]})
        assert snapshot["s"] == 200
        data = snapshot["d"]
        for key in (
            "users",
            "accounts",
            "positions",
            "orders",
            "orderVersions",
            "fills",
            "cashBalances",
            "contracts",
        ):
            assert key in data
        assert [o["id"] for o in data["orders"]] == [resting]
        assert [v["orderId"] for v in data["orderVersions"]] == [resting]
        assert [c["name"] for c in data["contracts"]] == ["MESZ6"]
        assert {b["accountId"] for b in data["cashBalances"]} == {1001, 1002}
        sim.control.set_price("MESZ6", 4990)
        events = ws.props(3)
        assert [(e["entityType"], e["eventType"]) for e in events] == [
            ("order", "Updated"),
            ("fill", "Created"),
            ("position", "Created"),
        ]
        assert events[0]["entity"]["ordStatus"] == "Filled"
        assert events[1]["entity"]["orderId"] == resting and events[1]["entity"]["price"] == 4990
        assert events[2]["entity"]["netPos"] == 1 and events[2]["entity"]["netPrice"] == 4990


def test_props_events_arrive_in_order_and_only_for_own_accounts(sim: SimulatorServer) -> None:
    sim.control.add_user("other", "pw", ["SIM0001"])
    other = Api(sim, login(sim, "other", "pw"))
    api = Api(sim)
    with authorized_socket(sim, api.token) as ws:
        ws.call("user/syncrequest", {"users": [1]})
        other.place(action="Buy", accountId=1003, accountSpec="SIM0001")
        placed = api.place(action="Sell", orderType="Limit", price=5010)["orderId"]
        api.post("/order/cancelorder", {"orderId": placed, "isAutomated": True})
        events = ws.props(3)
        assert [
            (e["entityType"], e["eventType"], e["entity"].get("ordStatus")) for e in events
        ] == [
            ("order", "Created", "Working"),
            ("orderVersion", "Created", None),
            ("order", "Updated", "Canceled"),
        ]
        assert all(e["entity"].get("accountId", 1001) == 1001 for e in events)


def test_oversized_sync_is_at_least_the_requested_size(sim: SimulatorServer) -> None:
    sim.control.faults(oversized_sync_bytes=5_000_000)
    with authorized_socket(sim, login(sim), max_size=None) as ws:
        request_id = ws.request("user/syncrequest", {"users": [1]})
        frame = ws.recv(timeout=10)
        while not frame.startswith("a"):
            frame = ws.recv(timeout=10)
        assert len(frame.encode()) >= 5_000_000
        answer = json.loads(frame[1:])[0]
        assert answer["i"] == request_id and answer["s"] == 200
        assert answer["d"]["accounts"]
        small = ws.call("user/syncrequest", {"users": [1]})  # one-shot: the next one is normal
        assert len(json.dumps(small)) < 100_000


def test_over_the_connection_limit_the_oldest_is_shut_down_and_its_token_revoked(
    sim: SimulatorServer,
) -> None:
    sim.control.faults(max_ws_per_user=2)
    first_token, second_token = login(sim), login(sim)
    with authorized_socket(sim, first_token) as oldest, authorized_socket(sim, second_token):
        with authorized_socket(sim, second_token) as newest:
            shutdown = next(m for m in oldest.messages() if "e" in m)
            assert shutdown == {"e": "shutdown", "d": {"reasonCode": "ConnectionQuotaReached"}}
            with pytest.raises(ConnectionClosed):
                while True:
                    oldest.recv(timeout=5)
            with rest(sim, first_token) as client:
                assert client.get("/account/list").status_code == 401
            with rest(sim, second_token) as client:
                assert client.get("/account/list").status_code == 200
            assert newest.call("account/list")["s"] == 200
            deadline = time.monotonic() + 5
            while sim.control.counters()["ws_open"] != 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sim.control.counters()["ws_open"] == 2


def test_server_sends_heartbeats_and_closes_a_silent_client() -> None:
    with start_simulator(heartbeat_ms=100, client_timeout_ms=600) as server:
        token = login(server)
        with authorized_socket(server, token) as talker, authorized_socket(server, token) as quiet:
            started = time.monotonic()
            heartbeats = 0
            while time.monotonic() - started < 1.0:
                if talker.recv(timeout=2) == "h":
                    heartbeats += 1
                    talker.ws.send("[]")
            assert heartbeats >= 5
            frames: list[str] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    frames.append(quiet.recv(timeout=3))
            assert frames[-1] == 'c[1000,"Heartbeat timeout"]'
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
            assert talker.call("account/list")["s"] == 200  # the chatty one is still open


def test_drop_cuts_sockets_without_a_close_frame(sim: SimulatorServer) -> None:
    token = login(sim)
    with authorized_socket(sim, token) as ws:
        assert sim.control.drop(user_id=1) == {"dropped": 1}
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd is None  # no close frame: an abnormal closure (1006)
    with authorized_socket(sim, token) as again:
        assert again.call("account/list")["s"] == 200


def _raw_upgrade(server: SimulatorServer) -> socket.socket:
    """Start a WebSocket handshake by hand and read the status line."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(
        b"GET /v1/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    return sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ")[1])


def test_connect_gate_refuses_a_fifth_pending_handshake_with_429(sim: SimulatorServer) -> None:
    pending = [_raw_upgrade(sim) for _ in range(4)]
    try:
        assert [_status(s) for s in pending] == [101] * 4
        with pytest.raises(InvalidStatus) as refused, open_socket(sim):
            pass
        assert refused.value.response.status_code == 429
        counters = sim.control.counters()
        assert counters["http_429_sent"] == 1
        assert counters["ws_connecting_now"] == 4 and counters["ws_connecting_max"] == 4
    finally:
        for s in pending:
            s.close()


def test_connect_gate_refuses_the_eleventh_handshake_within_a_second(sim: SimulatorServer) -> None:
    token = ""
    statuses: list[int] = []
    for _attempt in range(3):  # a loaded machine may need more than a second for ten
        sim.control.reset()
        token = login(sim)
        started = time.monotonic()
        statuses = []
        for _ in range(11):
            try:
                with authorized_socket(sim, token):
                    statuses.append(101)
            except InvalidStatus as exc:
                statuses.append(exc.response.status_code)
        if time.monotonic() - started < 0.9:
            break
        time.sleep(1.05)
    assert statuses[:10] == [101] * 10 and statuses[10] == 429
    counters = sim.control.counters()
    assert counters["ws_connects"] == 10 and counters["http_429_sent"] == 1
    time.sleep(1.05)
    with authorized_socket(sim, token) as ws:
        assert ws.call("account/list")["s"] == 200


def test_p_ticket_fields_arrive_in_d_over_the_socket(sim: SimulatorServer) -> None:
    sim.control.faults(p_ticket={"count": 1, "time": 7, "endpoints": ["account/list"]})
    with authorized_socket(sim, login(sim)) as ws:
        answer = ws.call("account/list")
        assert answer["s"] == 200
        assert answer["d"]["p-time"] == 7 and answer["d"]["p-captcha"] is False
        assert isinstance(ws.call("account/list")["d"], list)
