"""Market-data WebSocket (/md/v1/websocket): quotes on subscribe and on every price change."""

from __future__ import annotations

import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.sim_fixtures import SimulatorServer, start_simulator
from tests.simulator.helpers import (
    Api,
    Socket,
    authorized_socket,
    login,
    md_token,
    open_socket,
)


def next_quote(ws: Socket, timeout: float = 5.0) -> dict[str, Any]:
    for message in ws.messages(timeout):
        if message.get("e") == "md":
            quotes: list[dict[str, Any]] = message["d"]["quotes"]
            assert len(quotes) == 1
            return quotes[0]
    raise AssertionError("unreachable")


def test_subscribe_answers_200_then_the_current_quote_and_each_change(
    sim: SimulatorServer,
) -> None:
    sim.control.set_price("ESZ6", "5000.25")
    contract_id = Api(sim).contract_id("ESZ6")
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        assert ws.call("md/subscribeQuote", {"symbol": "ESZ6"}) == {"i": 2, "s": 200}
        first = next_quote(ws)
        assert first["contractId"] == contract_id
        assert first["entries"] == {
            "Trade": {"price": 5000.25, "size": 1},
            "Bid": {"price": 5000, "size": 1},
            "Offer": {"price": 5000.5, "size": 1},
        }
        assert first["timestamp"].endswith("Z")
        sim.control.step("ESZ6", 3)
        assert next_quote(ws)["entries"]["Trade"]["price"] == 5001
        sim.control.set_price("ESZ6", "4990")
        assert next_quote(ws)["entries"]["Bid"]["price"] == 4989.75


def test_unsubscribe_stops_the_quotes_of_that_contract_only(sim: SimulatorServer) -> None:
    api = Api(sim)
    es, nq = api.contract_id("ESZ6"), api.contract_id("NQZ6")
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        ws.call("md/subscribeQuote", {"symbol": "ESZ6"})
        next_quote(ws)
        ws.call("md/subscribeQuote", {"symbol": nq})  # a contract id works as the symbol too
        assert next_quote(ws)["contractId"] == nq
        assert ws.call("md/unsubscribeQuote", {"symbol": "ESZ6"})["s"] == 200
        sim.control.step("ESZ6", 1)
        sim.control.step("NQZ6", 1)
        quote = next_quote(ws)  # the ES change, sent first if at all, would fail this
        assert quote["contractId"] == nq and quote["contractId"] != es


def test_an_unknown_symbol_is_404_with_words(sim: SimulatorServer) -> None:
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        answer = ws.call("md/subscribeQuote", {"symbol": "XXZ6"})
        assert answer["s"] == 404
        assert answer["d"] == "Unknown symbol 'XXZ6': no such contract"


def test_the_md_host_serves_no_account_or_order_endpoints(sim: SimulatorServer) -> None:
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        assert ws.call("user/syncrequest", {"users": [1]})["s"] == 404
        assert ws.call("account/list")["s"] == 404
    with authorized_socket(sim, login(sim)) as user_socket:  # and the user host serves no md
        assert user_socket.call("md/subscribeQuote", {"symbol": "ESZ6"})["s"] == 404


def test_md_requests_need_authorize(sim: SimulatorServer) -> None:
    with open_socket(sim, market_data=True) as ws:
        assert ws.recv() == "o"
        assert ws.call("authorize", "bogus") == {"i": 1, "s": 401, "d": "Access is denied"}
        assert ws.call("md/subscribeQuote", {"symbol": "ESZ6"})["s"] == 401


def test_md_faults_apply_as_on_the_user_socket(sim: SimulatorServer) -> None:
    sim.control.faults(http_5xx={"count": 1, "status": 503, "endpoints": ["md/subscribequote"]})
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        failed = ws.call("md/subscribeQuote", {"symbol": "ESZ6"})
        assert failed["s"] == 503
        assert ws.call("md/subscribeQuote", {"symbol": "ESZ6"})["s"] == 200
        sim.control.faults(rate_limit_429_seconds=5)
        assert ws.call("md/subscribeQuote", {"symbol": "NQZ6"}) == {"i": 4, "s": 429}
    assert sim.control.counters()["requests"]["md/subscribequote"] == 3


def test_md_sockets_have_their_own_connection_quota(sim: SimulatorServer) -> None:
    sim.control.faults(max_ws_per_user=1)
    token = md_token(sim)
    with authorized_socket(sim, login(sim)) as user_socket:
        with authorized_socket(sim, token, market_data=True) as oldest:
            assert user_socket.call("account/list")["s"] == 200  # not pushed out by md
            with authorized_socket(sim, md_token(sim), market_data=True):
                shutdown = next(m for m in oldest.messages() if "e" in m)
                assert shutdown == {"e": "shutdown", "d": {"reasonCode": "ConnectionQuotaReached"}}
                with pytest.raises(ConnectionClosed):
                    while True:
                        oldest.recv(timeout=5)
            assert user_socket.call("account/list")["s"] == 200


def test_md_heartbeats_and_silence_timeout() -> None:
    with start_simulator(heartbeat_ms=100, client_timeout_ms=600) as server:
        with authorized_socket(server, md_token(server), market_data=True) as quiet:
            frames: list[str] = []
            with pytest.raises(ConnectionClosed):
                while True:
                    frames.append(quiet.recv(timeout=3))
            assert frames.count("h") >= 3
            assert frames[-1] == 'c[1000,"Heartbeat timeout"]'


def test_the_random_walk_sends_quotes() -> None:
    with start_simulator(walk_ms=20) as server:
        with authorized_socket(server, md_token(server), market_data=True) as ws:
            ws.call("md/subscribeQuote", {"symbol": "MNQZ6"})
            prices: set[float] = set()
            deadline = time.monotonic() + 5
            while len(prices) < 3 and time.monotonic() < deadline:
                prices.add(next_quote(ws)["entries"]["Trade"]["price"])
                ws.ws.send("[]")
            assert len(prices) >= 3


def test_drop_and_reset_close_md_sockets(sim: SimulatorServer) -> None:
    with authorized_socket(sim, md_token(sim), market_data=True) as ws:
        ws.call("md/subscribeQuote", {"symbol": "ESZ6"})
        next_quote(ws)
        sim.control.reset()
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=5)
