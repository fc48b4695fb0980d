"""REST: auth, contracts, orders and the matching engine, against a real simulator process."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.sim_fixtures import SimulatorServer, start_simulator
from tests.simulator.helpers import DEMO, LOGIN_EXTRAS, Api, login, rest


def test_auth_returns_tokens_with_a_future_utc_expiry(sim: SimulatorServer) -> None:
    with rest(sim) as client:
        response = client.post("/auth/accesstokenrequest", json={**DEMO, **LOGIN_EXTRAS})
    answer = response.json()
    assert response.status_code == 200
    assert answer["userId"] == 1 and answer["name"] == "demo"
    assert answer["userStatus"] == "Active" and answer["hasLive"] is False
    assert answer["accessToken"] and answer["mdAccessToken"]
    assert answer["expirationTime"].endswith("Z")
    expiry = datetime.fromisoformat(answer["expirationTime"].replace("Z", "+00:00"))
    assert 79 * 60 < (expiry - datetime.now(UTC)).total_seconds() <= 80 * 60 + 5


def test_wrong_password_is_http_200_with_error_text(sim: SimulatorServer) -> None:
    with rest(sim) as client:
        response = client.post(
            "/auth/accesstokenrequest", json={"name": "demo", "password": "nope", **LOGIN_EXTRAS}
        )
    assert response.status_code == 200
    assert response.json() == {"errorText": "Incorrect username or password. Please try again."}


def test_renew_gives_a_new_token_and_the_old_one_keeps_working(sim: SimulatorServer) -> None:
    api = Api(sim)
    renewed = api.get("/auth/renewaccesstoken")
    assert renewed["accessToken"] != api.token
    assert api.get("/account/list")
    assert Api(sim, renewed["accessToken"]).get("/account/list")


def test_missing_or_bad_token_is_401_access_denied(sim: SimulatorServer) -> None:
    with rest(sim) as client:
        assert client.get("/account/list").status_code == 401
    with rest(sim, "not-a-token") as client:
        response = client.get("/account/list")
    assert response.status_code == 401
    assert response.json() == {"errorText": "Access is denied"}


def test_paths_match_case_insensitively(sim: SimulatorServer) -> None:
    with rest(sim) as client:
        mixed = client.post("/auth/accessTokenRequest", json={**DEMO, **LOGIN_EXTRAS})
        upper = client.post("/AUTH/ACCESSTOKENREQUEST", json={**DEMO, **LOGIN_EXTRAS})
    assert mixed.json()["userId"] == upper.json()["userId"] == 1
    api = Api(sim, mixed.json()["accessToken"])
    assert api.get("/Account/List") == api.get("/account/list")
    assert sim.control.counters()["requests"]["auth/accesstokenrequest"] == 2


def test_malformed_json_is_http_400(sim: SimulatorServer) -> None:
    api = Api(sim)
    response = api.client.post(
        "/order/placeorder", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "errorText" in response.json()


def test_account_list_has_the_seeded_accounts(sim: SimulatorServer) -> None:
    accounts = Api(sim).get("/account/list")
    assert [(a["id"], a["name"], a["userId"]) for a in accounts] == [
        (1001, "DEMO1001", 1),
        (1002, "DEMO1002", 1),
    ]
    assert all(a["accountType"] == "Customer" and a["active"] is True for a in accounts)


def test_contract_ids_are_stable_and_unknown_names_are_404(sim: SimulatorServer) -> None:
    api = Api(sim)
    mes = api.get("/contract/find", name="MESZ6")
    assert mes["name"] == "MESZ6" and mes["id"] == api.get("/contract/find", name="MESZ6")["id"]
    assert api.get("/contract/item", id=mes["id"]) == mes
    es = api.get("/contract/find", name="ESH7")
    assert api.get("/contract/items", ids=f"{mes['id']},{es['id']}") == [mes, es]
    sim.control.reset()
    api = Api(sim)
    assert api.get("/contract/find", name="MESZ6")["id"] == mes["id"]
    for unknown in ("XXZ6", "MESZ26", "MESA6"):
        response = api.client.get("/contract/find", params={"name": unknown})
        assert response.status_code == 404
        assert "errorText" in response.json()


def test_product_find_gives_tick_and_point_value(sim: SimulatorServer) -> None:
    api = Api(sim)
    mes = api.get("/product/find", name="MES")
    assert (mes["tickSize"], mes["valuePerPoint"], mes["productType"]) == (0.25, 5, "Futures")
    assert api.get("/product/find", name="ZB")["tickSize"] == 0.03125
    assert api.get("/product/find", name="6J")["tickSize"] == 0.0000005
    assert api.get("/contract/find", name="MESZ6")["productId"] == mes["id"]


def test_market_buy_fills_at_the_current_price_and_opens_a_position(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.set_price("MESZ6", 5010.25)
    order_id = api.place(action="Buy", orderQty=2, clOrdId="entry-1")["orderId"]
    order = api.order(order_id)
    assert order["ordStatus"] == "Filled" and order["clOrdId"] == "entry-1"
    assert order["action"] == "Buy" and order["accountId"] == 1001
    fills = [f for f in api.get("/fill/list") if f["orderId"] == order_id]
    assert [(f["qty"], f["price"], f["action"]) for f in fills] == [(2, 5010.25, "Buy")]
    position = api.position("MESZ6")
    assert position is not None
    assert (position["netPos"], position["netPrice"], position["bought"]) == (2, 5010.25, 2)
    assert sim.control.counters()["orders_placed"] == 1


def test_net_price_averages_and_flat_position_has_no_net_price(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.set_price("MESZ6", 5000)
    api.place(action="Buy")
    sim.control.set_price("MESZ6", 5001)
    api.place(action="Buy")
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == 2 and position["netPrice"] == 5000.5
    sim.control.set_price("MESZ6", 5003)
    api.place(action="Sell", orderQty=3)  # flips: closes 2, opens 1 short at 5003
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == -1 and position["netPrice"] == 5003
    api.place(action="Buy")
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == 0
    assert position.get("netPrice") is None
    cash = api.post("/cashBalance/getCashBalanceSnapshot", {"accountId": 1001})
    # (5003 - 5000.5) * 2 * $5 = 25 realized on the long, 0 on the short
    assert cash["realizedPnL"] == 25.0 and cash["totalCashValue"] == 50025.0


def test_limit_orders_rest_until_the_price_reaches_them(sim: SimulatorServer) -> None:
    api = Api(sim)
    buy = api.place(action="Buy", orderType="Limit", price=4990)["orderId"]
    sell = api.place(action="Sell", orderType="Limit", price=5010)["orderId"]
    assert api.status(buy) == api.status(sell) == "Working"
    sim.control.set_price("MESZ6", 4990.25)
    assert api.status(buy) == "Working"
    sim.control.set_price("MESZ6", 4989)
    assert api.status(buy) == "Filled"
    fill = next(f for f in api.get("/fill/list") if f["orderId"] == buy)
    assert fill["price"] == 4989
    sim.control.step("MESZ6", 84)  # 4989 + 21.00
    assert api.status(sell) == "Filled"


def test_marketable_limit_fills_at_once_at_the_current_price(sim: SimulatorServer) -> None:
    api = Api(sim)
    order_id = api.place(action="Buy", orderType="Limit", price=5005)["orderId"]
    assert api.status(order_id) == "Filled"
    assert next(f for f in api.get("/fill/list") if f["orderId"] == order_id)["price"] == 5000


def test_stop_orders_trigger_through_the_stop_and_fill_at_market(sim: SimulatorServer) -> None:
    api = Api(sim)
    buy_stop = api.place(action="Buy", orderType="Stop", stopPrice=5002)["orderId"]
    sell_stop = api.place(action="Sell", orderType="Stop", stopPrice=4998)["orderId"]
    sim.control.set_price("MESZ6", 5001.75)
    assert api.status(buy_stop) == "Working"
    sim.control.set_price("MESZ6", 5003)
    assert api.status(buy_stop) == "Filled"
    assert next(f for f in api.get("/fill/list") if f["orderId"] == buy_stop)["price"] == 5003
    sim.control.set_price("MESZ6", 4997.5)
    assert api.status(sell_stop) == "Filled"


def test_order_versions_carry_prices(sim: SimulatorServer) -> None:
    api = Api(sim)
    order_id = api.place(action="Buy", orderType="Limit", price=4990, timeInForce="GTC")["orderId"]
    versions = api.get("/orderVersion/deps", masterid=order_id)
    assert len(versions) == 1
    version = versions[0]
    assert (version["orderQty"], version["orderType"], version["price"]) == (1, "Limit", 4990)
    assert version["timeInForce"] == "GTC"
    assert version in api.get("/orderVersion/list")


@pytest.mark.parametrize(
    ("symbol", "price"),
    [("MESZ6", 5000.10), ("ZBZ6", 120.03), ("ZNZ6", 110.0078125), ("6JZ6", 0.00670001)],
)
def test_off_tick_prices_are_invalid_price(sim: SimulatorServer, symbol: str, price: float) -> None:
    answer = Api(sim).place(action="Buy", orderType="Limit", price=price, symbol=symbol)
    assert answer["failureReason"] == "InvalidPrice"
    assert "tick" in answer["failureText"]
    assert sim.control.state()["orders"] == []


@pytest.mark.parametrize(
    ("symbol", "price"),
    [("ZBZ6", 120.03125), ("ZNZ6", 110.015625), ("ZFZ6", 105.9921875), ("6JZ6", 0.0066995)],
)
def test_exact_fractional_ticks_are_accepted(
    sim: SimulatorServer, symbol: str, price: float
) -> None:
    api = Api(sim)
    answer = api.place(action="Sell", orderType="Limit", price=price, symbol=symbol)
    assert "orderId" in answer, answer
    assert api.get("/orderVersion/deps", masterid=answer["orderId"])[0]["price"] == price


def test_invalid_orders_fail_with_tradovate_reasons(sim: SimulatorServer) -> None:
    api = Api(sim)
    assert api.place(symbol="NOPEZ6")["failureReason"] == "InvalidContract"
    missing_price = api.place(orderType="Limit", action="Buy")
    assert missing_price["failureReason"] == "UnknownReason"
    assert "price" in missing_price["failureText"]
    missing_stop = api.place(orderType="Stop", action="Buy")
    assert "stopPrice" in missing_stop["failureText"]
    for qty in (0, -1, 1.5, None):
        assert api.place(action="Buy", orderQty=qty)["failureReason"] == "UnknownReason"


def test_another_users_account_is_unauthorized(sim: SimulatorServer) -> None:
    created = sim.control.add_user("other", "pw", ["SIM0001"])
    other_account = created["accounts"][0]["id"]
    api = Api(sim)
    answer = api.place(action="Buy", accountId=other_account, accountSpec="SIM0001")
    assert answer["failureReason"] == "Unauthorized"
    other = Api(sim, login(sim, "other", "pw"))
    assert [a["name"] for a in other.get("/account/list")] == ["SIM0001"]
    order_id = other.place(
        action="Buy", orderType="Limit", price=4000, accountId=other_account, accountSpec="SIM0001"
    )["orderId"]
    assert order_id not in [o["id"] for o in api.get("/order/list")]
    response = api.client.post("/order/cancelorder", json={"orderId": order_id})
    assert response.status_code == 404


def test_oso_brackets_are_suspended_then_working_then_oco_cancelled(sim: SimulatorServer) -> None:
    api = Api(sim)
    answer = api.post(
        "/order/placeOSO",
        {
            "accountSpec": "DEMO1001",
            "accountId": 1001,
            "action": "Buy",
            "symbol": "MESZ6",
            "orderQty": 3,
            "orderType": "Limit",
            "price": 4995,
            "isAutomated": True,
            "bracket1": {"action": "Sell", "orderType": "Limit", "price": 5010},
            "bracket2": {"action": "Sell", "orderType": "Stop", "stopPrice": 4985},
        },
    )
    entry, take_profit, stop = answer["orderId"], answer["oso1Id"], answer["oso2Id"]
    assert api.status(entry) == "Working"
    assert api.status(take_profit) == api.status(stop) == "Suspended"
    tp_order, stop_order = api.order(take_profit), api.order(stop)
    assert tp_order["parentId"] == entry and stop_order["parentId"] == entry
    assert tp_order["ocoId"] == stop_order["ocoId"] is not None
    sim.control.set_price("MESZ6", 4995)
    assert api.status(entry) == "Filled"
    assert api.status(take_profit) == api.status(stop) == "Working"
    assert api.get("/orderVersion/deps", masterid=stop)[-1]["orderQty"] == 3
    sim.control.set_price("MESZ6", 5010)
    assert api.status(take_profit) == "Filled"
    assert api.status(stop) == "Canceled"
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == 0


def test_cancelling_an_oso_entry_cancels_its_brackets(sim: SimulatorServer) -> None:
    api = Api(sim)
    answer = api.post(
        "/order/placeoso",
        {
            "accountId": 1001,
            "action": "Sell",
            "symbol": "MESZ6",
            "orderQty": 1,
            "orderType": "Limit",
            "price": 5020,
            "bracket1": {"action": "Buy", "orderType": "Limit", "price": 5000, "orderQty": 1},
        },
    )
    assert "oso2Id" not in answer
    assert "commandId" in api.post(
        "/order/cancelorder", {"orderId": answer["orderId"], "isAutomated": True}
    )
    assert api.status(answer["orderId"]) == "Canceled"
    assert api.status(answer["oso1Id"]) == "Canceled"


def test_placeoco_links_two_working_orders_and_a_fill_cancels_the_other(
    sim: SimulatorServer,
) -> None:
    api = Api(sim)
    answer = api.post(
        "/order/placeoco",
        {
            "accountId": 1001,
            "action": "Buy",
            "symbol": "MESZ6",
            "orderQty": 1,
            "orderType": "Limit",
            "price": 4990,
            "other": {"action": "Buy", "orderType": "Stop", "stopPrice": 5010},
        },
    )
    first, second = answer["orderId"], answer["ocoId"]
    assert api.status(first) == api.status(second) == "Working"
    assert api.order(first)["ocoId"] == api.order(second)["ocoId"]
    sim.control.set_price("MESZ6", 5011)
    assert api.status(second) == "Filled"
    assert api.status(first) == "Canceled"


def test_cancel_working_order_then_again_is_too_late(sim: SimulatorServer) -> None:
    api = Api(sim)
    order_id = api.place(action="Buy", orderType="Limit", price=4900)["orderId"]
    assert "commandId" in api.post("/order/cancelorder", {"orderId": order_id, "isAutomated": True})
    assert api.status(order_id) == "Canceled"
    again = api.post("/order/cancelorder", {"orderId": order_id, "isAutomated": True})
    assert again["failureReason"] == "TooLate"
    assert api.client.post("/order/cancelorder", json={"orderId": 999}).status_code == 404


def test_modify_moves_a_resting_order_and_fills_when_marketable(sim: SimulatorServer) -> None:
    api = Api(sim)
    order_id = api.place(action="Buy", orderType="Limit", price=4900)["orderId"]
    modify = {"orderId": order_id, "orderQty": 2, "orderType": "Limit", "isAutomated": True}
    assert (
        api.post("/order/modifyorder", {**modify, "price": 5000.1})["failureReason"]
        == "InvalidPrice"
    )
    assert "commandId" in api.post("/order/modifyorder", {**modify, "price": 4950})
    versions = api.get("/orderVersion/deps", masterid=order_id)
    assert [(v["orderQty"], v["price"]) for v in versions] == [(1, 4900), (2, 4950)]
    assert api.status(order_id) == "Working"
    api.post("/order/modifyorder", {**modify, "price": 5000})
    assert api.status(order_id) == "Filled"
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == 2


def test_liquidate_cancels_working_orders_and_flattens(sim: SimulatorServer) -> None:
    api = Api(sim)
    api.place(action="Sell", orderQty=2)
    resting = api.place(action="Buy", orderType="Limit", price=4900)["orderId"]
    contract_id = api.contract_id("MESZ6")
    body = {"accountId": 1001, "contractId": contract_id, "admin": False, "isAutomated": True}
    answer = api.post("/order/liquidatePosition", body)
    assert api.status(answer["orderId"]) == "Filled"
    assert api.order(answer["orderId"])["action"] == "Buy"
    assert api.status(resting) == "Canceled"
    position = api.position("MESZ6")
    assert position is not None and position["netPos"] == 0
    assert api.post("/order/liquidateposition", body) == {
        "failureReason": "UnknownReason",
        "failureText": "No position",
    }


def test_accounts_are_independent(sim: SimulatorServer) -> None:
    api = Api(sim)
    api.place(action="Buy", accountId=1002, accountSpec="DEMO1002")
    assert api.position("MESZ6", account_id=1001) is None
    other = api.position("MESZ6", account_id=1002)
    assert other is not None and other["netPos"] == 1


def test_reset_restores_the_seeded_state(sim: SimulatorServer) -> None:
    api = Api(sim)
    sim.control.set_price("MESZ6", 5100)
    api.place(action="Buy")
    sim.control.reset()
    state = sim.control.state()
    assert state["orders"] == state["fills"] == state["positions"] == []
    assert [u["name"] for u in state["users"]] == ["demo"]
    assert sim.control.counters()["orders_placed"] == 0
    with rest(sim, api.token) as client:
        assert client.get("/account/list").status_code == 401
    assert sim.control.set_price("MESZ6", 5000)["price"] == 5000


def test_stop_limit_triggers_then_rests_as_a_limit(sim: SimulatorServer) -> None:
    api = Api(sim)
    order_id = api.place(action="Buy", orderType="StopLimit", stopPrice=5005, price=5006)["orderId"]
    sim.control.set_price("MESZ6", 5008)  # triggers, but above the limit
    assert api.status(order_id) == "Working"
    sim.control.set_price("MESZ6", 5006)
    assert api.status(order_id) == "Filled"


def test_price_walk_moves_touched_contracts_by_whole_ticks() -> None:
    with start_simulator(walk_ms=20, seed=3) as server:
        api = Api(server)
        api.place(action="Buy", orderType="Limit", price=4000)  # touches MESZ6
        seen: set[float] = set()
        deadline = time.monotonic() + 5
        while len(seen) < 3 and time.monotonic() < deadline:
            seen.add(server.control.state()["prices"]["MESZ6"])
            time.sleep(0.05)
    assert len(seen) >= 3
    assert all((Decimal(str(p)) % Decimal("0.25")) == 0 for p in seen)
