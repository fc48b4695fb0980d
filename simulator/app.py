"""The simulator's Starlette app: Tradovate REST + WebSockets (user and market data), and the
``/_sim`` control API."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from simulator.engine import JSON, Event, NotFound, failure, iso, number, to_decimal
from simulator.state import ORDER_ENDPOINTS, Exchange, FaultError, Ticket, User

log = logging.getLogger("simulator")

ACCESS_DENIED = "Access is denied"
MAX_CONNECTING = 4  # handshakes accepted but not yet authorized
MAX_CONNECTS_PER_SECOND = 10
RECEIVE_KEY = "simulator.receive"


@dataclass(frozen=True)
class Config:
    heartbeat_ms: int = 2500
    client_timeout_ms: int = 10000
    walk_ms: int = 0
    seed: int = 7
    demo_accounts: tuple[str, ...] = ("DEMO1001", "DEMO1002")
    demo_history_days: int = 0


class BadRequest(Exception):
    """Malformed input: HTTP 400 with ``errorText``."""


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def json_response(status: int, body: Any) -> Response:
    if body is None:
        return Response(status_code=status)
    return Response(dumps(body), status_code=status, media_type="application/json")


# --- REST endpoints ---------------------------------------------------------------------------

Handler = Callable[[Exchange, User | None, dict[str, str], Any], Any]


def _body(body: Any) -> JSON:
    if not isinstance(body, dict):
        raise BadRequest("A JSON object body is required")
    return body


def _int(query: dict[str, str], key: str) -> int:
    try:
        return int(query[key])
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Query parameter {key} must be an integer") from exc


def _user(user: User | None) -> User:
    assert user is not None  # guaranteed by dispatch for authenticated endpoints
    return user


def _own_account_ids(ex: Exchange, user: User | None) -> set[int]:
    return {a.id for a in ex.engine.user_accounts(_user(user).id)}


def auth_request(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    data = _body(body)
    found = ex.login(data.get("name"), data.get("password"))
    if found is None:
        return {"errorText": "Incorrect username or password. Please try again."}
    return ex.issue_token(found)


def renew(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    return ex.issue_token(_user(user))


def account_list(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    return [a.as_json() for a in ex.engine.user_accounts(_user(user).id)]


def position_list(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    mine = _own_account_ids(ex, user)
    return [p.as_json() for (a, _), p in ex.engine.positions.items() if a in mine]


def order_list(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    mine = _own_account_ids(ex, user)
    return [o.as_json() for o in ex.engine.orders.values() if o.account_id in mine]


def order_item(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    order = ex.engine.orders.get(_int(query, "id"))
    if order is None or order.account_id not in _own_account_ids(ex, user):
        raise NotFound("Order not found")
    return order.as_json()


def version_list(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    mine = _own_account_ids(ex, user)
    orders = ex.engine.orders
    return [
        v.as_json() for v in ex.engine.versions.values() if orders[v.order_id].account_id in mine
    ]


def version_deps(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    master = _int(query, "masterid")
    order = ex.engine.orders.get(master)
    if order is None or order.account_id not in _own_account_ids(ex, user):
        return []
    return [v.as_json() for v in ex.engine.versions.values() if v.order_id == master]


def fill_list(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    mine = _own_account_ids(ex, user)
    orders = ex.engine.orders
    return [f.as_json() for f in ex.engine.fills.values() if orders[f.order_id].account_id in mine]


def fill_deps(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    master = _int(query, "masterid")
    order = ex.engine.orders.get(master)
    if order is None or order.account_id not in _own_account_ids(ex, user):
        return []
    return [f.as_json() for f in ex.engine.fills.values() if f.order_id == master]


def contract_find(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    name = query.get("name", "")
    contract = ex.engine.contract(name)
    if contract is None:
        raise NotFound(f"Contract {name} not found")
    return contract.as_json()


def contract_item(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    contract = ex.engine.contract_by_id(_int(query, "id"))
    if contract is None:
        raise NotFound("Contract not found")
    return contract.as_json()


def contract_items(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    try:
        ids = [int(i) for i in query.get("ids", "").split(",") if i.strip()]
    except ValueError as exc:
        raise BadRequest("ids must be integers") from exc
    found = (ex.engine.contract_by_id(i) for i in ids)
    return [c.as_json() for c in found if c is not None]


def product_find(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    product = ex.catalog.products.get(query.get("name", ""))
    if product is None:
        raise NotFound(f"Product {query.get('name')} not found")
    return product.as_json()


def cash_snapshot(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    account = ex.engine.accounts.get(_body(body).get("accountId"))  # type: ignore[arg-type]
    if account is None or account.user_id != _user(user).id:
        raise NotFound("Account not found")
    return ex.engine.cash_snapshot(account)


def _engine_call(name: str) -> Handler:
    def handler(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
        method: Callable[[int, JSON], JSON] = getattr(ex.engine, name)
        return method(_user(user).id, _body(body))

    return handler


def md_quote_contract(ex: Exchange, user: User | None, query: dict[str, str], body: Any) -> Any:
    """``md/subscribeQuote`` / ``md/unsubscribeQuote``: the contract named (or numbered) by
    ``symbol``; the socket's subscription is changed by the caller."""
    symbol = _body(body).get("symbol")
    contract = None
    if isinstance(symbol, str):
        contract = ex.engine.contract(symbol)
    elif isinstance(symbol, int) and not isinstance(symbol, bool):
        contract = ex.engine.contract_by_id(symbol)
    if contract is None:
        raise NotFound(f"Unknown symbol {symbol!r}: no such contract")
    return {"contractId": contract.id}


PUBLIC = {"auth/accesstokenrequest"}
HANDLERS: dict[str, Handler] = {
    "auth/accesstokenrequest": auth_request,
    "auth/renewaccesstoken": renew,
    "account/list": account_list,
    "position/list": position_list,
    "order/list": order_list,
    "order/item": order_item,
    "orderversion/list": version_list,
    "orderversion/deps": version_deps,
    "fill/list": fill_list,
    "fill/deps": fill_deps,
    "contract/find": contract_find,
    "contract/item": contract_item,
    "contract/items": contract_items,
    "product/find": product_find,
    "order/placeorder": _engine_call("place_order"),
    "order/placeoso": _engine_call("place_oso"),
    "order/placeoco": _engine_call("place_oco"),
    "order/cancelorder": _engine_call("cancel_order"),
    "order/modifyorder": _engine_call("modify_order"),
    "order/liquidateposition": _engine_call("liquidate"),
    "cashbalance/getcashbalancesnapshot": cash_snapshot,
}
# The market-data host serves these (and ``authorize``) only.
MD_SUBSCRIBE = "md/subscribequote"
MD_HANDLERS: dict[str, Handler] = {
    MD_SUBSCRIBE: md_quote_contract,
    "md/unsubscribequote": md_quote_contract,
}


# --- WebSocket connections --------------------------------------------------------------------


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    opened_at: float
    queue: asyncio.Queue[str | Close] = field(default_factory=asyncio.Queue)
    user_id: int | None = None
    token: str | None = None
    authorized_at: float = 0.0
    connecting: bool = True
    closing: bool = False
    market_data: bool = False  # a socket of the market-data host (/md/v1/websocket)
    accounts: set[int] = field(default_factory=set)
    quotes: dict[int, Decimal | None] = field(default_factory=dict)  # contract -> price sent
    last_client_frame: float = field(default_factory=time.monotonic)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, frame: str | Close) -> None:
        if not self.closing:
            self.queue.put_nowait(frame)
            if isinstance(frame, Close):
                self.closing = True

    def abort(self) -> bool:
        """Cut the TCP connection without a close frame (uvicorn's transport.abort())."""
        self.closing = True
        receive = self.websocket.scope.get(RECEIVE_KEY)
        protocol = getattr(receive, "__self__", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            transport.abort()
            return True
        self.queue.put_nowait(Close(1011, "Dropped"))
        return False


class Simulator:
    """The running simulator: one Exchange plus its open sockets and background tasks."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.exchange = Exchange(
            demo_accounts=config.demo_accounts,
            history_days=config.demo_history_days,
            history_seed=config.seed,
        )
        self.connections: list[Connection] = []
        self.arrivals: deque[float] = deque()
        self.rng = random.Random(config.seed)

    # --- events ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Push the engine's pending entity changes to the sockets subscribed to them, and a
        quote of every subscribed contract whose price moved since that socket's last one."""
        events = self.exchange.engine.drain_events()
        for conn in self.connections:
            if conn.closing:
                continue
            mine: list[Event] = [e for e in events if e.account_id in conn.accounts]
            if mine:
                conn.send("a" + dumps([{"e": "props", "d": e.as_json()} for e in mine]))
            self._push_quotes(conn)

    def _push_quotes(self, conn: Connection) -> None:
        engine = self.exchange.engine
        quotes: list[JSON] = []
        for contract_id, sent in conn.quotes.items():
            contract = engine.contract_by_id(contract_id)
            if contract is None:
                continue
            price = engine.price(contract)
            if price == sent:
                continue
            conn.quotes[contract_id] = price
            quotes.append(
                {
                    "timestamp": iso(self.exchange.clock()),
                    "contractId": contract_id,
                    "entries": {
                        "Trade": {"price": number(price), "size": 1},
                        "Bid": {"price": number(max(price - contract.tick, Decimal(0))), "size": 1},
                        "Offer": {"price": number(price + contract.tick), "size": 1},
                    },
                }
            )
        if quotes:
            conn.send("a" + dumps([{"e": "md", "d": {"quotes": quotes}}]))

    # --- the request pipeline shared by REST and WebSocket -------------------------------

    async def dispatch(
        self,
        endpoint: str,
        query: dict[str, str],
        body: Any,
        *,
        token: str | None,
        ws_user: User | None = None,
        handlers: Mapping[str, Handler] = HANDLERS,
    ) -> tuple[int, Any]:
        ex = self.exchange
        counters = ex.counters
        counters.requests[endpoint] = counters.requests.get(endpoint, 0) + 1
        if endpoint in ORDER_ENDPOINTS:
            counters.last_order_received_at = time.time()
        faults = ex.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.rate_limit_until > ex.clock():
            counters.http_429_sent += 1
            return 429, None
        hang = faults.take("hang", endpoint)
        if hang is not None:
            await asyncio.sleep(float(hang["seconds"]))
        broken = faults.take("http_5xx", endpoint)
        if broken is not None:
            return int(broken["status"]), {"errorText": "Simulated server error"}
        handler = handlers.get(endpoint)
        if handler is None:
            return 404, {"errorText": f"Unknown endpoint {endpoint}"}
        user = ws_user
        if endpoint not in PUBLIC and user is None:
            user = ex.user_for_token(token)
            if user is None:
                return 401, {"errorText": ACCESS_DENIED}
        ticket_answer = self._penalty(endpoint, body)
        if ticket_answer is not None:
            return 200, ticket_answer
        if endpoint in ORDER_ENDPOINTS or faults.names("reject_orders", endpoint):
            rejection = faults.take("reject_orders", endpoint)
            if rejection is not None:
                return 200, failure(str(rejection["failureReason"]), str(rejection["failureText"]))
        try:
            result = handler(ex, user, query, body)
        except NotFound as exc:
            return 404, {"errorText": str(exc)}
        except BadRequest as exc:
            return 400, {"errorText": str(exc)}
        finally:
            self.flush()
        if endpoint in ORDER_ENDPOINTS and isinstance(result, dict) and "orderId" in result:
            counters.orders_placed += 1
        dropped = faults.take("drop", endpoint)
        if dropped is not None:  # done, but the answer is lost on the way back
            await asyncio.sleep(float(dropped["seconds"]))
        return 200, result

    def _penalty(self, endpoint: str, body: Any) -> JSON | None:
        """A p-ticket answer when one is due; strips a valid ticket from the resent body."""
        ex = self.exchange
        now = ex.clock()
        presented = body.pop("p-ticket", None) if isinstance(body, dict) else None
        ticket = ex.tickets.get(presented) if isinstance(presented, str) else None
        if ticket is not None and isinstance(presented, str):
            if ticket.captcha:
                ex.counters.p_tickets_sent += 1
                return {"p-ticket": presented, "p-time": ticket.wait, "p-captcha": True}
            if now - ticket.issued_at >= ticket.wait:
                del ex.tickets[presented]
                return None
            return self._issue_ticket(ticket.wait, captcha=False)
        params = ex.faults.take("p_ticket", endpoint)
        if params is None:
            return None
        return self._issue_ticket(params["time"], captcha=bool(params["captcha"]))

    def _issue_ticket(self, wait: float, *, captcha: bool) -> JSON:
        ex = self.exchange
        value = secrets.token_urlsafe(24)
        ex.tickets[value] = Ticket(issued_at=ex.clock(), wait=wait, captcha=captcha)
        ex.counters.p_tickets_sent += 1
        return {"p-ticket": value, "p-time": wait, "p-captcha": captcha}

    # --- REST ------------------------------------------------------------------------------

    async def rest(self, request: Request) -> Response:
        endpoint = request.url.path[len("/v1/") :].strip("/").lower()
        query = dict(request.query_params)
        raw = await request.body()
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                self.exchange.counters.requests[endpoint] = (
                    self.exchange.counters.requests.get(endpoint, 0) + 1
                )
                return json_response(400, {"errorText": "Malformed JSON body"})
        authorization = request.headers.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        status, answer = await self.dispatch(endpoint, query, body, token=token)
        return json_response(status, answer)

    # --- WebSocket -------------------------------------------------------------------------

    def _gate_refuses(self) -> bool:
        now = time.monotonic()
        while self.arrivals and now - self.arrivals[0] > 1.0:
            self.arrivals.popleft()
        counters = self.exchange.counters
        if (
            counters.ws_connecting_now >= MAX_CONNECTING
            or len(self.arrivals) >= MAX_CONNECTS_PER_SECOND
        ):
            return True
        self.arrivals.append(now)
        return False

    async def md_websocket(self, websocket: WebSocket) -> None:
        """The market-data host: the same protocol, quotes instead of account events."""
        await self.websocket(websocket, market_data=True)

    async def websocket(self, websocket: WebSocket, *, market_data: bool = False) -> None:
        counters = self.exchange.counters
        if self._gate_refuses():
            counters.http_429_sent += 1
            await websocket.send_denial_response(Response(status_code=429))
            return
        counters.ws_connects += 1
        counters.ws_connecting_now += 1
        counters.ws_connecting_max = max(counters.ws_connecting_max, counters.ws_connecting_now)
        conn = Connection(websocket=websocket, opened_at=time.monotonic(), market_data=market_data)
        self.connections.append(conn)
        try:
            await websocket.accept()
            counters.ws_open += 1
            sender = asyncio.create_task(self._sender(conn))
            beat = asyncio.create_task(self._heartbeat(conn))
            try:
                await self._reader(conn)
            finally:
                beat.cancel()
                sender.cancel()
                for task in list(conn.tasks):
                    task.cancel()
                counters.ws_open -= 1
        finally:
            conn.closing = True
            if conn in self.connections:
                self.connections.remove(conn)
            if conn.connecting:
                counters.ws_connecting_now -= 1

    async def _sender(self, conn: Connection) -> None:
        delay = self.exchange.faults.connect_delay_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        try:
            await conn.websocket.send_text("o")
            while True:
                frame = await conn.queue.get()
                if isinstance(frame, Close):
                    await conn.websocket.close(frame.code, frame.reason)
                    return
                await conn.websocket.send_text(frame)
        except (RuntimeError, OSError, WebSocketDisconnect):
            return  # the peer is gone; the reader sees the disconnect

    async def _heartbeat(self, conn: Connection) -> None:
        interval = self.config.heartbeat_ms / 1000
        timeout = self.config.client_timeout_ms / 1000
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(min(interval, timeout / 4))
            now = time.monotonic()
            if now - conn.last_client_frame > timeout:
                conn.send('c[1000,"Heartbeat timeout"]')
                conn.send(Close(1000, "Heartbeat timeout"))
                return
            if now - last_beat >= interval * 0.99:
                conn.send("h")
                last_beat = now

    async def _reader(self, conn: Connection) -> None:
        while True:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            conn.last_client_frame = time.monotonic()
            if not text or "\n" not in text:
                continue  # "[]" heartbeats and anything that is not a request
            task = asyncio.create_task(self._ws_request(conn, text))
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)

    async def _ws_request(self, conn: Connection, text: str) -> None:
        parts = text.split("\n", 3)
        parts += [""] * (4 - len(parts))
        endpoint = parts[0].strip().strip("/").lower()
        try:
            request_id = int(parts[1])
        except ValueError:
            return
        query_text, body_text = parts[2], parts[3]
        if endpoint == "authorize":
            await self._authorize(conn, request_id, body_text.strip())
            return
        user = self.exchange.users.get(conn.user_id) if conn.user_id is not None else None
        if user is None:
            conn.send(self._answer(request_id, 401, ACCESS_DENIED))
            return
        if endpoint == "user/syncrequest" and not conn.market_data:
            await self._syncrequest(conn, request_id, user)
            return
        body: Any = None
        if body_text.strip():
            try:
                body = json.loads(body_text)
            except ValueError:
                conn.send(self._answer(request_id, 400, "Malformed JSON body"))
                return
        query = dict(parse_qsl(query_text))
        status, answer = await self.dispatch(
            endpoint,
            query,
            body,
            token=conn.token,
            ws_user=user,
            handlers=MD_HANDLERS if conn.market_data else HANDLERS,
        )
        if status != 200 and isinstance(answer, dict):
            answer = answer.get("errorText", "")
        if conn.market_data and isinstance(answer, dict) and "contractId" in answer:
            contract_id = answer["contractId"]
            conn.send(self._answer(request_id, status, None))
            if endpoint == MD_SUBSCRIBE:
                conn.quotes[contract_id] = None  # the current quote goes out at once
                self._push_quotes(conn)
            else:
                conn.quotes.pop(contract_id, None)
            return
        conn.send(self._answer(request_id, status, answer))

    @staticmethod
    def _answer(request_id: int, status: int, body: Any) -> str:
        item: JSON = {"i": request_id, "s": status}
        if body is not None:
            item["d"] = body
        return "a" + dumps([item])

    async def _authorize(self, conn: Connection, request_id: int, token: str) -> None:
        ex = self.exchange
        ex.counters.requests["authorize"] = ex.counters.requests.get("authorize", 0) + 1
        if ex.faults.latency_ms:
            await asyncio.sleep(ex.faults.latency_ms / 1000)
        user = ex.user_for_token(token)
        if user is None:
            conn.send(self._answer(request_id, 401, ACCESS_DENIED))
            return
        conn.user_id, conn.token, conn.authorized_at = user.id, token, time.monotonic()
        if conn.connecting:
            conn.connecting = False
            ex.counters.ws_connecting_now -= 1
        conn.send(self._answer(request_id, 200, None))
        mine = sorted(
            (
                c
                for c in self.connections
                if c.user_id == user.id and c.market_data == conn.market_data and not c.closing
            ),
            key=lambda c: c.authorized_at,
        )
        while len(mine) > ex.faults.max_ws_per_user:
            oldest = mine.pop(0)
            oldest.send(
                "a" + dumps([{"e": "shutdown", "d": {"reasonCode": "ConnectionQuotaReached"}}])
            )
            oldest.send(Close(1000, "ConnectionQuotaReached"))
            if oldest.token is not None:
                ex.revoke(oldest.token)

    async def _syncrequest(self, conn: Connection, request_id: int, user: User) -> None:
        ex = self.exchange
        ex.counters.requests["user/syncrequest"] = (
            ex.counters.requests.get("user/syncrequest", 0) + 1
        )
        if ex.faults.latency_ms:
            await asyncio.sleep(ex.faults.latency_ms / 1000)
        self.flush()  # earlier changes go out before the snapshot that already contains them
        accounts = {a.id for a in ex.engine.user_accounts(user.id)}
        snapshot = {"users": [user.as_json()], **ex.engine.snapshot(accounts)}
        pad_to = ex.faults.oversized_sync_bytes
        if pad_to:
            ex.faults.oversized_sync_bytes = 0
            snapshot["commandReports"] = _padding(pad_to)
        conn.accounts = accounts
        conn.send(self._answer(request_id, 200, snapshot))

    # --- control ---------------------------------------------------------------------------

    async def control(self, request: Request) -> Response:
        action = request.url.path[len("/_sim/") :].strip("/")
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return json_response(400, {"errorText": "Malformed JSON body"})
        if not isinstance(body, dict):
            return json_response(400, {"errorText": "A JSON object body is required"})
        try:
            return json_response(200, self._control(action, request.method, body))
        except NotFound as exc:
            return json_response(404, {"errorText": str(exc)})
        except (FaultError, BadRequest, ValueError, TypeError, KeyError) as exc:
            return json_response(400, {"errorText": f"{type(exc).__name__}: {exc}"})

    def _control(self, action: str, method: str, body: JSON) -> Any:
        ex = self.exchange
        if action == "reset":
            for conn in list(self.connections):
                conn.send(Close(1000, "Simulator reset"))
                conn.accounts = set()
                conn.quotes = {}
                if conn.connecting:  # counted by the counters being replaced
                    conn.connecting = False
                    ex.counters.ws_connecting_now -= 1
            ex.reset()
            self.arrivals.clear()
            return {"reset": True}
        if action == "users":
            accounts = body.get("accounts") or []
            return ex.add_user(str(body["name"]), str(body["password"]), [str(a) for a in accounts])
        if action in ("price", "step"):
            symbol = str(body.get("symbol", ""))
            contract = ex.engine.contract(symbol)
            if contract is None:
                raise NotFound(f"Unknown contract {symbol!r}")
            if action == "price":
                price = to_decimal(body.get("price"))
                if price is None:
                    raise BadRequest("price must be a number")
                ex.engine.set_price(contract, price)
            else:
                ticks = body.get("ticks")
                if not isinstance(ticks, int) or isinstance(ticks, bool):
                    raise BadRequest("ticks must be an integer")
                ex.engine.step(contract, ticks)
            self.flush()
            return {"symbol": symbol, "price": number(ex.engine.price(contract))}
        if action == "state":
            return ex.state()
        if action == "counters":
            return ex.counters.as_json()
        if action == "sockets":  # the open sockets, each with its user once authorized
            now = time.monotonic()
            return [
                {
                    "userId": conn.user_id,
                    "marketData": conn.market_data,
                    "openSeconds": round(now - conn.opened_at, 3),
                }
                for conn in self.connections
                if not conn.closing
            ]
        if action == "faults":
            return ex.merge_faults(body if method == "POST" else {})
        if action == "drop":
            user_id = body.get("userId")
            dropped = 0
            for conn in list(self.connections):
                if user_id is None or conn.user_id == user_id:
                    conn.abort()
                    dropped += 1
            return {"dropped": dropped}
        raise NotFound(f"Unknown control call {action!r}")

    # --- price walk ------------------------------------------------------------------------

    async def walk(self) -> None:
        interval = self.config.walk_ms / 1000
        while True:
            await asyncio.sleep(interval)
            engine = self.exchange.engine
            for contract_id in sorted(engine.prices):
                contract = engine.contract_by_id(contract_id)
                if contract is not None:
                    engine.step(contract, self.rng.choice((-1, 0, 1)))
            self.flush()


def _padding(size: int) -> list[JSON]:
    """Harmless command reports that make a syncrequest answer at least ``size`` bytes."""
    entry = {
        "id": 0,
        "commandId": 0,
        "timestamp": "2025-01-01T00:00:00.000Z",
        "commandStatus": "ExecutionStopped",
        "rejectReason": "Padding from the simulator's oversized_sync_bytes fault" + "." * 100,
    }
    count = size // (len(dumps(entry)) - 1) + 1
    return [{**entry, "id": i, "commandId": i} for i in range(count)]


class LowercasePaths:
    """REST paths are case-insensitive; also keeps the server's ``receive`` for drop()."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "path": scope["path"].lower(), RECEIVE_KEY: receive}
        await self.app(scope, receive, send)


def create_app(config: Config | None = None) -> Starlette:
    """The ASGI app of one simulator (all state in memory, one process)."""
    sim = Simulator(config or Config())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        walker = asyncio.create_task(sim.walk()) if sim.config.walk_ms > 0 else None
        try:
            yield
        finally:
            if walker is not None:
                walker.cancel()
            for conn in list(sim.connections):
                conn.send(Close(1001, "Simulator stopping"))

    routes = [
        WebSocketRoute("/v1/websocket", sim.websocket),
        WebSocketRoute("/md/v1/websocket", sim.md_websocket),
        Route("/v1/{path:path}", sim.rest, methods=["GET", "POST"]),
        Route("/_sim/{path:path}", sim.control, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(LowercasePaths)
    app.state.simulator = sim
    return app
