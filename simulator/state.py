"""Everything the simulator holds besides the order book: users, tokens, faults, counters."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simulator.contracts import Catalog
from simulator.engine import JSON, Engine, iso
from simulator.history import History, book_history

SEED_CASH = Decimal("50000.00")
ORDER_ENDPOINTS = ("order/placeorder", "order/placeoso", "order/placeoco")


@dataclass
class User:
    id: int
    name: str
    password: str
    created: float

    def as_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "timestamp": iso(self.created),
            "email": f"{self.name}@simulator.invalid",
            "status": "Active",
            "professional": False,
        }


@dataclass
class Token:
    value: str
    user_id: int
    expires_at: float
    revoked: bool = False


@dataclass
class CountedFault:
    """A fault that applies to the next ``count`` requests (of ``endpoints``, when given)."""

    count: int
    endpoints: tuple[str, ...] | None
    params: JSON

    def applies(self, endpoint: str) -> bool:
        return self.count > 0 and (self.endpoints is None or endpoint in self.endpoints)

    def as_json(self) -> JSON:
        out: JSON = {"count": self.count, **self.params}
        if self.endpoints is not None:
            out["endpoints"] = list(self.endpoints)
        return out


@dataclass
class Ticket:
    issued_at: float
    wait: float
    captcha: bool


COUNTED: dict[str, JSON] = {
    "p_ticket": {"time": 2, "captcha": False},
    "http_5xx": {"status": 503},
    "hang": {"seconds": 30},
    # The call is carried out, then its answer is held this long (the client times out): the
    # order exists at the exchange although the caller never heard so.
    "drop": {"seconds": 30},
    "reject_orders": {
        "failureReason": "MaxPosLimitReached",
        "failureText": "Rejected by the simulator",
    },
}


@dataclass
class Faults:
    latency_ms: int = 0
    rate_limit_until: float = 0.0
    counted: dict[str, CountedFault] = field(default_factory=dict)
    oversized_sync_bytes: int = 0
    max_ws_per_user: int = 50
    token_ttl_seconds: int = 4800
    connect_delay_ms: int = 0

    def names(self, name: str, endpoint: str) -> bool:
        """True if the fault ``name`` is set and its ``endpoints`` list ``endpoint`` by name."""
        fault = self.counted.get(name)
        return fault is not None and fault.endpoints is not None and endpoint in fault.endpoints

    def take(self, name: str, endpoint: str) -> JSON | None:
        """The fault's parameters if it applies to this request (using one of its count)."""
        fault = self.counted.get(name)
        if fault is None or not fault.applies(endpoint):
            return None
        fault.count -= 1
        if fault.count <= 0:
            del self.counted[name]
        return fault.params

    def as_json(self, now: float) -> JSON:
        return {
            "latency_ms": self.latency_ms,
            "rate_limit_429_seconds": max(0.0, round(self.rate_limit_until - now, 3)),
            **{name: fault.as_json() for name, fault in self.counted.items()},
            "oversized_sync_bytes": self.oversized_sync_bytes,
            "max_ws_per_user": self.max_ws_per_user,
            "token_ttl_seconds": self.token_ttl_seconds,
            "connect_delay_ms": self.connect_delay_ms,
        }


@dataclass
class Counters:
    requests: dict[str, int] = field(default_factory=dict)
    ws_connects: int = 0
    ws_connecting_now: int = 0
    ws_connecting_max: int = 0
    ws_open: int = 0
    http_429_sent: int = 0
    p_tickets_sent: int = 0
    orders_placed: int = 0
    last_order_received_at: float | None = None

    def as_json(self) -> JSON:
        return {
            "requests": dict(self.requests),
            "ws_connects": self.ws_connects,
            "ws_connecting_now": self.ws_connecting_now,
            "ws_connecting_max": self.ws_connecting_max,
            "ws_open": self.ws_open,
            "http_429_sent": self.http_429_sent,
            "p_tickets_sent": self.p_tickets_sent,
            "orders_placed": self.orders_placed,
            "last_order_received_at": self.last_order_received_at,
        }


class FaultError(ValueError):
    """A control-API fault body that does not make sense."""


class Exchange:
    """The whole simulated broker; ``reset`` restores the seeded state (contract ids stay)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        demo_accounts: tuple[str, ...] = ("DEMO1001", "DEMO1002"),
        history_days: int = 0,
        history_seed: int = 7,
    ) -> None:
        self.clock = clock
        self.catalog = Catalog()
        self.demo_accounts = demo_accounts  # the "demo" login's accounts, ids from 1001
        self.history_days = history_days  # trading days of past trades on them (history.py)
        self.history_seed = history_seed
        self.reset()

    def reset(self) -> None:
        self.engine = Engine(catalog=self.catalog, clock=self.clock)
        self.users: dict[int, User] = {}
        self.tokens: dict[str, Token] = {}
        self.faults = Faults()
        self.counters = Counters()
        self.tickets: dict[str, Ticket] = {}
        self._next_user_id = 1
        self._next_account_id = 1001
        demo = self.add_user("demo", "demo-password", list(self.demo_accounts))
        self.history: History | None = None
        if self.history_days > 0:
            self.history = book_history(
                self.engine,
                self.engine.user_accounts(demo["userId"]),
                days=self.history_days,
                seed=self.history_seed,
            )

    # --- users and tokens ------------------------------------------------------------------

    def add_user(self, name: str, password: str, accounts: list[str]) -> JSON:
        if any(u.name == name for u in self.users.values()):
            raise FaultError(f"user {name!r} exists")
        taken = {a.name for a in self.engine.accounts.values()}
        if any(a in taken for a in accounts) or len(set(accounts)) != len(accounts):
            raise FaultError("account names must be new and distinct")
        user = User(id=self._next_user_id, name=name, password=password, created=self.clock())
        self._next_user_id += 1
        self.users[user.id] = user
        created = []
        for account_name in accounts:
            account = self.engine.add_account(
                account_id=self._next_account_id, name=account_name, user_id=user.id, cash=SEED_CASH
            )
            self._next_account_id += 1
            created.append({"id": account.id, "name": account.name})
        return {"userId": user.id, "accounts": created}

    def login(self, name: object, password: object) -> User | None:
        return next(
            (u for u in self.users.values() if u.name == name and u.password == password), None
        )

    def issue_token(self, user: User) -> JSON:
        expires = self.clock() + self.faults.token_ttl_seconds
        access = Token(secrets.token_urlsafe(32), user.id, expires)
        market_data = Token(secrets.token_urlsafe(32), user.id, expires)
        self.tokens[access.value] = access
        self.tokens[market_data.value] = market_data
        return {
            "accessToken": access.value,
            "mdAccessToken": market_data.value,
            "expirationTime": iso(expires),
            "userId": user.id,
            "name": user.name,
            "userStatus": "Active",
            "hasLive": False,
        }

    def user_for_token(self, value: str | None) -> User | None:
        token = self.tokens.get(value) if value else None
        if token is None or token.revoked or token.expires_at <= self.clock():
            return None
        return self.users.get(token.user_id)

    def revoke(self, value: str) -> None:
        token = self.tokens.get(value)
        if token is not None:
            token.revoked = True

    # --- faults ----------------------------------------------------------------------------

    def merge_faults(self, body: dict[str, Any]) -> JSON:
        """Apply a control-API fault body (see SPEC.md); returns the current switches."""
        faults = self.faults
        now = self.clock()
        for key, value in body.items():
            if key in COUNTED:
                if value is None or value is False:
                    faults.counted.pop(key, None)
                    continue
                if not isinstance(value, dict):
                    raise FaultError(f"{key} must be an object")
                params = {**COUNTED[key], **value}
                count = int(params.pop("count", 1))
                endpoints = params.pop("endpoints", None)
                if count <= 0:
                    faults.counted.pop(key, None)
                    continue
                faults.counted[key] = CountedFault(
                    count=count,
                    endpoints=tuple(e.lower().strip("/") for e in endpoints) if endpoints else None,
                    params=params,
                )
            elif key == "latency_ms":
                faults.latency_ms = int(value or 0)
            elif key == "rate_limit_429_seconds":
                faults.rate_limit_until = now + float(value or 0)
            elif key == "oversized_sync_bytes":
                faults.oversized_sync_bytes = int(value or 0)
            elif key == "max_ws_per_user":
                faults.max_ws_per_user = int(value)
            elif key == "token_ttl_seconds":
                faults.token_ttl_seconds = int(value)
            elif key == "connect_delay_ms":
                faults.connect_delay_ms = int(value or 0)
            elif key == "expire_tokens":
                if value:
                    for token in self.tokens.values():
                        token.expires_at = min(token.expires_at, now)
            else:
                raise FaultError(f"unknown fault switch {key!r}")
        return faults.as_json(now)

    def state(self) -> JSON:
        engine = self.engine
        return {
            "users": [u.as_json() for u in self.users.values()],
            "accounts": [a.as_json() for a in engine.accounts.values()],
            "orders": [o.as_json() for o in engine.orders.values()],
            "orderVersions": [v.as_json() for v in engine.versions.values()],
            "fills": [f.as_json() for f in engine.fills.values()],
            "positions": [p.as_json() for p in engine.positions.values()],
            "prices": {
                c.name: float(engine.prices[c.id])
                for c in self.catalog.contracts.values()
                if c.id in engine.prices
            },
            "history": None if self.history is None else self.history.as_json(),
        }
