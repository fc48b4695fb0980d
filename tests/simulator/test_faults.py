"""Fault switches and counters of the control API, observed through real requests."""

from __future__ import annotations

import threading
import time

import httpx

from tests.sim_fixtures import SimulatorServer
from tests.simulator.helpers import DEMO, LOGIN_EXTRAS, Api, authorized_socket, login, rest

ORDER = {
    "accountId": 1001,
    "accountSpec": "DEMO1001",
    "action": "Buy",
    "symbol": "MESZ6",
    "orderQty": 1,
    "orderType": "Market",
    "isAutomated": True,
}


def test_latency_delays_rest_and_websocket_answers(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(latency_ms=300)
    started = time.monotonic()
    api.get("/account/list")
    assert time.monotonic() - started >= 0.3
    with authorized_socket(sim, api.token) as ws:
        started = time.monotonic()
        assert ws.call("account/list")["s"] == 200
        assert time.monotonic() - started >= 0.3
    sim.control.faults(latency_ms=0)
    started = time.monotonic()
    api.get("/account/list")
    assert time.monotonic() - started < 0.3


def test_rate_limit_window_answers_429_with_an_empty_body(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(rate_limit_429_seconds=0.5)
    response = api.client.get("/account/list")
    assert response.status_code == 429 and response.content == b""
    with rest(sim) as client:
        assert client.post("/auth/accesstokenrequest", json=DEMO).status_code == 429
    with authorized_socket(sim, api.token) as ws:
        assert ws.call("account/list") == {"i": 2, "s": 429}
    assert sim.control.counters()["http_429_sent"] == 3
    time.sleep(0.55)
    assert api.client.get("/account/list").status_code == 200


def test_p_ticket_then_resend_with_the_ticket_after_p_time_succeeds(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(p_ticket={"count": 1, "time": 0.5, "endpoints": ["order/placeorder"]})
    first = api.post("/order/placeorder", ORDER)
    assert set(first) == {"p-ticket", "p-time", "p-captcha"}
    assert first["p-time"] == 0.5 and first["p-captcha"] is False
    assert sim.control.state()["orders"] == []
    early = api.post("/order/placeorder", {**ORDER, "p-ticket": first["p-ticket"]})
    assert "p-ticket" in early and early["p-ticket"] != first["p-ticket"]
    time.sleep(0.55)
    done = api.post("/order/placeorder", {**ORDER, "p-ticket": early["p-ticket"]})
    assert "orderId" in done
    assert sim.control.counters()["p_tickets_sent"] == 2
    assert "orderId" in api.post("/order/placeorder", ORDER)  # count used up


def test_p_ticket_on_auth_and_captcha_keeps_answering_the_ticket(sim: SimulatorServer) -> None:
    sim.control.faults(p_ticket={"count": 1, "time": 0, "captcha": True})
    body = {**DEMO, **LOGIN_EXTRAS}
    with rest(sim) as client:
        first = client.post("/auth/accesstokenrequest", json=body).json()
        assert first["p-captcha"] is True
        again = client.post(
            "/auth/accesstokenrequest", json={**body, "p-ticket": first["p-ticket"]}
        )
        assert again.json() == first
        fresh = client.post("/auth/accesstokenrequest", json=body).json()
    assert "accessToken" in fresh


def test_http_5xx_for_a_count_of_requests_on_chosen_endpoints(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(http_5xx={"count": 2, "status": 502, "endpoints": ["order/placeorder"]})
    assert api.client.get("/account/list").status_code == 200
    statuses = [api.client.post("/order/placeorder", json=ORDER).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert len(sim.control.state()["orders"]) == 1


def test_hang_holds_one_request_without_blocking_others(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(hang={"count": 1, "seconds": 1.5, "endpoints": ["position/list"]})
    hung: dict[str, float] = {}

    def call_hung() -> None:
        started = time.monotonic()
        with rest(sim, api.token) as client:
            client.get("/position/list")
        hung["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=call_hung)
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    api.get("/account/list")
    assert time.monotonic() - started < 0.5
    with rest(sim, api.token) as client:
        try:
            client.get("/position/list", timeout=0.3)
        except httpx.ReadTimeout as exc:  # the second call is not hung: count was 1
            raise AssertionError("hang applied twice") from exc
    thread.join(5)
    assert hung["elapsed"] >= 1.5


def test_reject_orders_answers_the_failure_instead(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(
        reject_orders={"count": 1, "failureReason": "TradingLocked", "failureText": "Locked"}
    )
    assert api.post("/order/placeorder", ORDER) == {
        "failureReason": "TradingLocked",
        "failureText": "Locked",
    }
    assert sim.control.state()["orders"] == []
    assert "orderId" in api.post("/order/placeorder", ORDER)


def test_reject_orders_refuses_a_modify_only_when_named(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.set_price("MESZ6", "5000")
    stop = {**ORDER, "action": "Sell", "orderType": "Stop", "stopPrice": 4990}
    order_id = api.post("/order/placeorder", stop)["orderId"]
    move = {"orderId": order_id, "orderQty": 1, "orderType": "Stop", "stopPrice": 4995}
    sim.control.faults(
        reject_orders={
            "count": 1,
            "failureReason": "UnknownReason",
            "failureText": "Stop moves refused",
            "endpoints": ["order/modifyorder"],
        }
    )
    assert "orderId" in api.post("/order/placeorder", ORDER)  # place* not named: not refused
    assert api.post("/order/modifyorder", move) == {
        "failureReason": "UnknownReason",
        "failureText": "Stop moves refused",
    }
    assert "commandId" in api.post("/order/modifyorder", move)
    versions = api.get("/orderVersion/deps", masterid=order_id)
    assert [v["stopPrice"] for v in versions] == [4990, 4995]


def test_expire_tokens_kills_issued_tokens_but_not_new_ones(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.faults(expire_tokens=True)
    assert api.client.get("/account/list").status_code == 401
    with rest(sim, api.token) as client:
        assert client.get("/auth/renewaccesstoken").status_code == 401
    assert Api(sim).get("/account/list")


def test_token_ttl_sets_the_lifetime_of_new_tokens(sim: SimulatorServer) -> None:
    sim.control.faults(token_ttl_seconds=1)
    api = Api(sim)
    assert api.get("/account/list")
    time.sleep(1.05)
    assert api.client.get("/account/list").status_code == 401


def test_faults_answer_the_current_switches(sim: SimulatorServer) -> None:
    current = sim.control.faults(latency_ms=5, http_5xx={"count": 3})
    assert current["latency_ms"] == 5
    assert current["http_5xx"] == {"count": 3, "status": 503}
    assert current["max_ws_per_user"] == 50
    sim.control.reset()
    assert "http_5xx" not in sim.control.faults()


def test_counters_count_requests_orders_and_websockets(sim: SimulatorServer) -> None:
    before = time.time()
    api = Api(sim)
    api.post("/order/placeorder", ORDER)
    api.post("/order/placeorder", {**ORDER, "symbol": "NOPEZ6"})
    with authorized_socket(sim, login(sim)):
        counters = sim.control.counters()
        assert counters["ws_open"] == 1 and counters["ws_connects"] == 1
        assert counters["ws_connecting_now"] == 0 and counters["ws_connecting_max"] == 1
    assert counters["requests"]["auth/accesstokenrequest"] == 2
    assert counters["requests"]["order/placeorder"] == 2
    assert counters["requests"]["authorize"] == 1
    assert counters["orders_placed"] == 1
    assert before <= counters["last_order_received_at"] <= time.time()
