"""Small clients for talking to a real simulator in tests (REST via httpx, WebSocket via the
``websockets`` sync client)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.sim_fixtures import SimulatorServer

DEMO = {"name": "demo", "password": "demo-password"}
LOGIN_EXTRAS = {
    "appId": "Bracketeer",
    "appVersion": "1.0",
    "cid": 0,
    "sec": "",
    "deviceId": "test-device",
}


def rest(server: SimulatorServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.rest_url, headers=headers, timeout=10.0, trust_env=False)


def login(server: SimulatorServer, name: str = "demo", password: str = "demo-password") -> str:
    with rest(server) as client:
        answer = client.post(
            "/auth/accesstokenrequest", json={"name": name, "password": password, **LOGIN_EXTRAS}
        ).json()
    token: str = answer["accessToken"]
    return token


def md_token(server: SimulatorServer) -> str:
    """A fresh login's market-data token (``mdAccessToken``)."""
    with rest(server) as client:
        answer = client.post("/auth/accesstokenrequest", json={**DEMO, **LOGIN_EXTRAS}).json()
    token: str = answer["mdAccessToken"]
    return token


class Api:
    """An authenticated REST client for the demo user (or another)."""

    def __init__(self, server: SimulatorServer, token: str | None = None) -> None:
        self.token = token or login(server)
        self.client = rest(server, self.token)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(path, json=body)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def contract_id(self, symbol: str) -> int:
        contract_id: int = self.get("/contract/find", name=symbol)["id"]
        return contract_id

    def place(self, **fields: Any) -> Any:
        body = {
            "accountSpec": "DEMO1001",
            "accountId": 1001,
            "symbol": "MESZ6",
            "orderQty": 1,
            "orderType": "Market",
            "isAutomated": True,
            **fields,
        }
        return self.post("/order/placeorder", body)

    def order(self, order_id: int) -> dict[str, Any]:
        found: dict[str, Any] = next(o for o in self.get("/order/list") if o["id"] == order_id)
        return found

    def status(self, order_id: int) -> str:
        status: str = self.order(order_id)["ordStatus"]
        return status

    def position(self, symbol: str, account_id: int = 1001) -> dict[str, Any] | None:
        contract_id = self.contract_id(symbol)
        return next(
            (
                p
                for p in self.get("/position/list")
                if p["contractId"] == contract_id and p["accountId"] == account_id
            ),
            None,
        )


class Socket:
    """A Tradovate-protocol WebSocket session: frames are parsed, requests numbered."""

    def __init__(self, connection: ClientConnection) -> None:
        self.ws = connection
        self.next_id = 1
        self.frames: list[str] = []

    def recv(self, timeout: float = 5.0) -> str:
        frame = self.ws.recv(timeout=timeout)
        text = frame if isinstance(frame, str) else frame.decode()
        self.frames.append(text)
        return text

    def request(self, endpoint: str, body: Any = None, query: str = "") -> int:
        request_id = self.next_id
        self.next_id += 1
        payload = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
        self.ws.send(f"{endpoint}\n{request_id}\n{query}\n{payload}")
        return request_id

    def messages(self, timeout: float = 5.0) -> Iterator[dict[str, Any]]:
        """Every message of every ``a[...]`` frame, skipping ``o`` and ``h``."""
        while True:
            frame = self.recv(timeout)
            if frame.startswith("a"):
                yield from json.loads(frame[1:])

    def answer(self, request_id: int, timeout: float = 5.0) -> dict[str, Any]:
        for message in self.messages(timeout):
            if message.get("i") == request_id:
                return message
        raise AssertionError("unreachable")

    def call(self, endpoint: str, body: Any = None, query: str = "") -> dict[str, Any]:
        return self.answer(self.request(endpoint, body, query))

    def props(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for message in self.messages(timeout):
            if message.get("e") == "props":
                events.append(message["d"])
                if len(events) >= count:
                    return events
        raise AssertionError("unreachable")


@contextmanager
def open_socket(
    server: SimulatorServer, *, market_data: bool = False, **options: Any
) -> Iterator[Socket]:
    """The user socket, or with ``market_data`` the market-data host's."""
    url = server.md_url if market_data else server.ws_url
    with connect(url, proxy=None, open_timeout=5, **options) as connection:
        yield Socket(connection)


@contextmanager
def authorized_socket(
    server: SimulatorServer, token: str, *, market_data: bool = False, **options: Any
) -> Iterator[Socket]:
    with open_socket(server, market_data=market_data, **options) as socket:
        assert socket.recv() == "o"
        assert socket.call("authorize", token) == {"i": 1, "s": 200}
        yield socket
