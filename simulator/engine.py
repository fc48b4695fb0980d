"""The matching engine: accounts, orders (OSO/OCO links), fills, positions, cash. No I/O.

Every public method is synchronous and leaves the entity changes it made in ``events`` (in the
order they happened), which the transport layer drains and pushes to WebSocket subscribers.
Business failures come back as ``{"failureReason", "failureText"}`` dicts, as Tradovate answers
them; "not found" (including "not yours") raises :class:`NotFound`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.contracts import Catalog, Contract

JSON = dict[str, Any]
ORDER_TYPES = ("Market", "Limit", "Stop", "StopLimit")
LIVE_STATUSES = ("Working", "Suspended")
ZERO = Decimal(0)


class NotFound(Exception):
    """The entity does not exist or belongs to another user (the same answer for both)."""


def failure(reason: str, text: str) -> JSON:
    return {"failureReason": reason, "failureText": text}


def iso(ts: float) -> str:
    """Tradovate's timestamp shape: ``2025-11-21T14:08:00.123Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def trade_date(ts: float) -> JSON:
    day = datetime.fromtimestamp(ts, UTC)
    return {"year": day.year, "month": day.month, "day": day.day}


def to_decimal(value: object) -> Decimal | None:
    """A JSON number (or numeric string) as the Decimal of its shortest repr; None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def number(value: Decimal) -> int | float:
    """A Decimal as a JSON number (int when whole)."""
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class Account:
    id: int
    name: str
    user_id: int
    cash: Decimal
    created: float
    realized: Decimal = ZERO

    def as_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "userId": self.user_id,
            "accountType": "Customer",
            "active": True,
            "clearingHouseId": 1,
            "riskCategoryId": 1,
            "autoLiqProfileId": 1,
            "marginAccountType": "Speculator",
            "legalStatus": "Individual",
            "archived": False,
            "timestamp": iso(self.created),
        }


@dataclass
class OrderVersion:
    id: int
    order_id: int
    order_qty: int
    order_type: str
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    timestamp: float

    def as_json(self) -> JSON:
        out: JSON = {
            "id": self.id,
            "orderId": self.order_id,
            "orderQty": self.order_qty,
            "orderType": self.order_type,
            "timeInForce": self.time_in_force,
            "timestamp": iso(self.timestamp),
        }
        if self.price is not None:
            out["price"] = number(self.price)
        if self.stop_price is not None:
            out["stopPrice"] = number(self.stop_price)
        return out


@dataclass
class Order:
    id: int
    account_id: int
    contract: Contract
    action: str
    status: str
    timestamp: float
    version: OrderVersion
    cl_ord_id: str | None = None
    oco_id: int | None = None
    parent_id: int | None = None
    linked_id: int | None = None
    triggered: bool = False
    qty_from_parent: bool = False

    def as_json(self) -> JSON:
        out: JSON = {
            "id": self.id,
            "accountId": self.account_id,
            "contractId": self.contract.id,
            "timestamp": iso(self.timestamp),
            "action": self.action,
            "ordStatus": self.status,
            "admin": False,
        }
        for key, value in (
            ("ocoId", self.oco_id),
            ("parentId", self.parent_id),
            ("linkedId", self.linked_id),
            ("clOrdId", self.cl_ord_id),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass
class Fill:
    id: int
    order_id: int
    contract_id: int
    timestamp: float
    action: str
    qty: int
    price: Decimal

    def as_json(self) -> JSON:
        return {
            "id": self.id,
            "orderId": self.order_id,
            "contractId": self.contract_id,
            "timestamp": iso(self.timestamp),
            "tradeDate": trade_date(self.timestamp),
            "action": self.action,
            "qty": self.qty,
            "price": number(self.price),
            "active": True,
        }


@dataclass
class Position:
    id: int
    account_id: int
    contract: Contract
    timestamp: float
    net_pos: int = 0
    net_price: Decimal | None = None
    bought: int = 0
    bought_value: Decimal = ZERO
    sold: int = 0
    sold_value: Decimal = ZERO

    def apply(self, action: str, qty: int, price: Decimal) -> Decimal:
        """Book a fill; returns the realized P&L (in currency) of the part that reduced."""
        if action == "Buy":
            self.bought += qty
            self.bought_value += price * qty
            signed = qty
        else:
            self.sold += qty
            self.sold_value += price * qty
            signed = -qty
        realized = ZERO
        if self.net_pos == 0 or (self.net_pos > 0) == (signed > 0):
            held = abs(self.net_pos)
            average = self.net_price if self.net_price is not None else ZERO
            self.net_price = (average * held + price * qty) / (held + qty)
            self.net_pos += signed
            return realized
        average = self.net_price if self.net_price is not None else price
        closing = min(qty, abs(self.net_pos))
        direction = 1 if self.net_pos > 0 else -1
        realized = (price - average) * closing * direction * self.contract.value_per_point
        self.net_pos += signed
        if self.net_pos == 0:
            self.net_price = None
        elif (self.net_pos > 0) != (direction > 0):
            self.net_price = price  # flipped: the rest opened at this fill's price
        return realized

    def as_json(self) -> JSON:
        out: JSON = {
            "id": self.id,
            "accountId": self.account_id,
            "contractId": self.contract.id,
            "timestamp": iso(self.timestamp),
            "tradeDate": trade_date(self.timestamp),
            "netPos": self.net_pos,
            "bought": self.bought,
            "boughtValue": number(self.bought_value),
            "sold": self.sold,
            "soldValue": number(self.sold_value),
            "prevPos": 0,
        }
        if self.net_price is not None and self.net_pos != 0:
            out["netPrice"] = float(self.net_price)
        return out


@dataclass(frozen=True)
class OrderSpec:
    """A validated order request (one leg)."""

    action: str
    qty: int | None
    order_type: str
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    cl_ord_id: str | None


@dataclass(frozen=True)
class Event:
    account_id: int
    entity_type: str
    event_type: str
    entity: JSON

    def as_json(self) -> JSON:
        return {"entityType": self.entity_type, "eventType": self.event_type, "entity": self.entity}


# Tradovate's ids never repeat. A restarted simulator (make demo again) numbers from where its
# start time puts it, so a database that kept the last run's rows never sees an id twice.
RUN_BASE = (int(time.time()) % 1_000_000) * 1_000_000


@dataclass
class Counters:
    order: int = RUN_BASE + 5000001
    version: int = RUN_BASE + 6000001
    fill: int = RUN_BASE + 7000001
    position: int = RUN_BASE + 8000001
    command: int = RUN_BASE + 9000001
    oco: int = RUN_BASE + 9500001

    def take(self, name: str) -> int:
        value: int = getattr(self, name)
        setattr(self, name, value + 1)
        return value


def _on_tick(value: Decimal, contract: Contract) -> bool:
    return value > 0 and value % contract.tick == 0


def parse_leg(body: JSON, contract: Contract, *, qty_required: bool) -> OrderSpec | JSON:
    """Validate one order leg's fields against the contract; a failure dict when invalid."""
    action = body.get("action")
    if action not in ("Buy", "Sell"):
        return failure("UnknownReason", f"action must be Buy or Sell, not {action!r}")
    raw_qty = body.get("orderQty")
    qty: int | None = None
    if raw_qty is not None or qty_required:
        if isinstance(raw_qty, bool) or not isinstance(raw_qty, int | float):
            return failure("UnknownReason", "orderQty must be a whole number greater than 0")
        if raw_qty != int(raw_qty) or raw_qty <= 0:
            return failure("UnknownReason", "orderQty must be a whole number greater than 0")
        qty = int(raw_qty)
    order_type = body.get("orderType", "Market")
    if order_type not in ORDER_TYPES:
        return failure("UnknownReason", f"orderType {order_type!r} is not supported")
    prices: dict[str, Decimal | None] = {}
    for key in ("price", "stopPrice"):
        raw = body.get(key)
        if raw is None:
            prices[key] = None
            continue
        value = to_decimal(raw)
        if value is None or not _on_tick(value, contract):
            return failure(
                "InvalidPrice",
                f"{key} {raw} is not a multiple of {contract.name}'s tick size {contract.tick}",
            )
        prices[key] = value
    if order_type in ("Limit", "StopLimit") and prices["price"] is None:
        return failure("UnknownReason", f"{order_type} order requires price")
    if order_type in ("Stop", "StopLimit") and prices["stopPrice"] is None:
        return failure("UnknownReason", f"{order_type} order requires stopPrice")
    tif = body.get("timeInForce") or "Day"
    if tif not in ("Day", "GTC", "IOC", "FOK", "GTD"):
        return failure("UnknownReason", f"timeInForce {tif!r} is not supported")
    cl_ord_id = body.get("clOrdId")
    if cl_ord_id is not None and (not isinstance(cl_ord_id, str) or len(cl_ord_id) > 64):
        return failure("UnknownReason", "clOrdId must be a string of at most 64 characters")
    return OrderSpec(
        action=action,
        qty=qty,
        order_type=order_type,
        price=prices["price"] if order_type in ("Limit", "StopLimit") else None,
        stop_price=prices["stopPrice"] if order_type in ("Stop", "StopLimit") else None,
        time_in_force=tif,
        cl_ord_id=cl_ord_id,
    )


@dataclass
class Engine:
    """One exchange's state. ``clock`` gives timestamps (time.time by default)."""

    catalog: Catalog
    clock: Callable[[], float] = time.time
    accounts: dict[int, Account] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    versions: dict[int, OrderVersion] = field(default_factory=dict)
    fills: dict[int, Fill] = field(default_factory=dict)
    positions: dict[tuple[int, int], Position] = field(default_factory=dict)
    prices: dict[int, Decimal] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    ids: Counters = field(default_factory=Counters)
    _working: dict[int, dict[int, Order]] = field(default_factory=dict)
    _children: dict[int, list[int]] = field(default_factory=dict)
    _oco: dict[int, list[int]] = field(default_factory=dict)

    # --- accounts, contracts, prices -------------------------------------------------------

    def add_account(self, *, account_id: int, name: str, user_id: int, cash: Decimal) -> Account:
        account = Account(
            id=account_id, name=name, user_id=user_id, cash=cash, created=self.clock()
        )
        self.accounts[account_id] = account
        return account

    def user_accounts(self, user_id: int) -> list[Account]:
        return [a for a in self.accounts.values() if a.user_id == user_id]

    def contract(self, name: str) -> Contract | None:
        contract = self.catalog.contract(name)
        if contract is not None:
            self.prices.setdefault(contract.id, contract.product.spec.default_price)
        return contract

    def contract_by_id(self, contract_id: int) -> Contract | None:
        contract = self.catalog.contracts_by_id.get(contract_id)
        if contract is not None:
            self.prices.setdefault(contract.id, contract.product.spec.default_price)
        return contract

    def price(self, contract: Contract) -> Decimal:
        return self.prices.setdefault(contract.id, contract.product.spec.default_price)

    def set_price(self, contract: Contract, price: Decimal) -> None:
        if not _on_tick(price, contract):
            raise ValueError(f"{price} is not a positive multiple of {contract.tick}")
        self.prices[contract.id] = price
        self._match(contract)

    def step(self, contract: Contract, ticks: int) -> Decimal:
        moved = self.price(contract) + contract.tick * ticks
        self.set_price(contract, moved if moved > 0 else contract.tick)
        return self.prices[contract.id]

    def drain_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    @contextmanager
    def as_of(self, when: float, ids: Counters) -> Iterator[None]:
        """Meanwhile the engine's clock reads ``when`` and its ids come from ``ids``: the demo
        history books past orders and fills through the ordinary paths (place, match, fill)."""
        clock, live = self.clock, self.ids
        self.clock, self.ids = (lambda: when), ids
        try:
            yield
        finally:
            self.clock, self.ids = clock, live

    def new_trade_date(self) -> None:
        """The broker's daily roll: each account's realized P&L goes into its cash, and a flat
        position's bought/sold counts start again (as Tradovate's do for a new trade date)."""
        for account in self.accounts.values():
            account.cash += account.realized
            account.realized = ZERO
        for position in self.positions.values():
            if position.net_pos == 0:
                position.bought = position.sold = 0
                position.bought_value = position.sold_value = ZERO

    # --- orders ----------------------------------------------------------------------------

    def _account_for(self, user_id: int, body: JSON) -> Account | JSON:
        account_id = body.get("accountId")
        spec = body.get("accountSpec")
        account: Account | None = None
        if account_id is not None:
            account = self.accounts.get(account_id) if isinstance(account_id, int) else None
        elif isinstance(spec, str):
            account = next((a for a in self.accounts.values() if a.name == spec), None)
        else:
            return failure("UnknownReason", "accountId or accountSpec is required")
        if account is None or account.user_id != user_id:
            return failure("Unauthorized", "The account is not accessible to this user")
        return account

    def _entry(self, user_id: int, body: JSON) -> tuple[Account, Contract, OrderSpec] | JSON:
        account = self._account_for(user_id, body)
        if not isinstance(account, Account):
            return account
        symbol = body.get("symbol")
        contract = self.contract(symbol) if isinstance(symbol, str) else None
        if contract is None:
            return failure("InvalidContract", f"Unknown contract {symbol!r}")
        spec = parse_leg(body, contract, qty_required=True)
        if not isinstance(spec, OrderSpec):
            return spec
        return account, contract, spec

    def place_order(self, user_id: int, body: JSON) -> JSON:
        entry = self._entry(user_id, body)
        if not isinstance(entry, tuple):
            return entry
        account, contract, spec = entry
        order = self._create(account, contract, spec, status="Working")
        self._match(contract)
        return {"orderId": order.id}

    def place_oso(self, user_id: int, body: JSON) -> JSON:
        entry = self._entry(user_id, body)
        if not isinstance(entry, tuple):
            return entry
        account, contract, spec = entry
        brackets: list[OrderSpec] = []
        for key in ("bracket1", "bracket2"):
            raw = body.get(key)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                return failure("UnknownReason", f"{key} must be an object")
            leg = parse_leg(
                {"action": "Sell" if spec.action == "Buy" else "Buy", **raw},
                contract,
                qty_required=False,
            )
            if not isinstance(leg, OrderSpec):
                return leg
            brackets.append(leg)
        if not brackets:
            return failure("UnknownReason", "placeoso requires bracket1")
        parent = self._create(account, contract, spec, status="Working")
        children = [
            self._create(account, contract, leg, status="Suspended", parent=parent)
            for leg in brackets
        ]
        if len(children) == 2:
            self._link_oco(children[0], children[1])
        self._match(contract)
        answer: JSON = {"orderId": parent.id, "oso1Id": children[0].id}
        if len(children) == 2:
            answer["oso2Id"] = children[1].id
        return answer

    def place_oco(self, user_id: int, body: JSON) -> JSON:
        entry = self._entry(user_id, body)
        if not isinstance(entry, tuple):
            return entry
        account, contract, spec = entry
        raw = body.get("other")
        if not isinstance(raw, dict):
            return failure("UnknownReason", "placeoco requires other")
        other_spec = parse_leg({"orderQty": spec.qty, **raw}, contract, qty_required=True)
        if not isinstance(other_spec, OrderSpec):
            return other_spec
        first = self._create(account, contract, spec, status="Working")
        second = self._create(account, contract, other_spec, status="Working")
        self._link_oco(first, second)
        self._match(contract)
        return {"orderId": first.id, "ocoId": second.id}

    def _own_order(self, user_id: int, order_id: object) -> Order:
        order = self.orders.get(order_id) if isinstance(order_id, int) else None
        if order is None or self.accounts[order.account_id].user_id != user_id:
            raise NotFound(f"Order {order_id} not found")
        return order

    def cancel_order(self, user_id: int, body: JSON) -> JSON:
        order = self._own_order(user_id, body.get("orderId"))
        if order.status not in LIVE_STATUSES:
            return failure("TooLate", f"Order {order.id} is {order.status}, not working")
        self._set_status(order, "Canceled")
        self._cancel_children(order)
        return {"commandId": self.ids.take("command")}

    def modify_order(self, user_id: int, body: JSON) -> JSON:
        order = self._own_order(user_id, body.get("orderId"))
        if order.status not in LIVE_STATUSES:
            return failure("TooLate", f"Order {order.id} is {order.status}, not working")
        fields = {"action": order.action, **body, "clOrdId": None}
        fields.setdefault("orderQty", order.version.order_qty)
        fields.setdefault("orderType", order.version.order_type)
        spec = parse_leg(fields, order.contract, qty_required=True)
        if not isinstance(spec, OrderSpec):
            return spec
        assert spec.qty is not None
        version = self._new_version(order.id, spec, spec.qty)
        order.version = version
        order.triggered = False
        order.qty_from_parent = False
        order.timestamp = self.clock()
        self._emit(order.account_id, "orderVersion", "Created", version.as_json())
        self._emit(order.account_id, "order", "Updated", order.as_json())
        if order.status == "Working":
            self._match(order.contract)
        return {"commandId": self.ids.take("command")}

    def liquidate(self, user_id: int, body: JSON) -> JSON:
        account = self._account_for(user_id, body)
        if not isinstance(account, Account):
            return account
        contract_id = body.get("contractId")
        contract = self.contract_by_id(contract_id) if isinstance(contract_id, int) else None
        if contract is None:
            return failure("InvalidContract", f"Unknown contract id {contract_id!r}")
        for order in list(self.orders.values()):
            if (
                order.account_id == account.id
                and order.contract.id == contract.id
                and order.status in LIVE_STATUSES
            ):
                self._set_status(order, "Canceled")
        position = self.positions.get((account.id, contract.id))
        if position is None or position.net_pos == 0:
            return failure("UnknownReason", "No position")
        spec = OrderSpec(
            action="Sell" if position.net_pos > 0 else "Buy",
            qty=abs(position.net_pos),
            order_type="Market",
            price=None,
            stop_price=None,
            time_in_force="Day",
            cl_ord_id=None,
        )
        order = self._create(account, contract, spec, status="Working")
        self._match(contract)
        return {"orderId": order.id}

    # --- reads -----------------------------------------------------------------------------

    def cash_snapshot(self, account: Account) -> JSON:
        open_pnl = ZERO
        for (account_id, _), position in self.positions.items():
            if account_id == account.id and position.net_pos and position.net_price is not None:
                open_pnl += (
                    (self.price(position.contract) - position.net_price)
                    * position.net_pos
                    * position.contract.value_per_point
                )
        total = account.cash + account.realized
        return {
            "accountId": account.id,
            "totalCashValue": float(total),
            "netLiq": float(total + open_pnl),
            "openPnL": float(open_pnl),
            "realizedPnL": float(account.realized),
            "weekRealizedPnL": float(account.realized),
            "initialMargin": 0,
            "maintenanceMargin": 0,
            "totalMargin": 0,
        }

    def cash_balance(self, account: Account) -> JSON:
        now = self.clock()
        return {
            "id": account.id,
            "accountId": account.id,
            "timestamp": iso(now),
            "tradeDate": trade_date(now),
            "currencyId": 1,
            "amount": float(account.cash + account.realized),
            "realizedPnL": float(account.realized),
            "weekRealizedPnL": float(account.realized),
        }

    def snapshot(self, account_ids: set[int]) -> JSON:
        """Everything of those accounts, as REST lists (the body of a syncrequest)."""
        orders = [o for o in self.orders.values() if o.account_id in account_ids]
        order_ids = {o.id for o in orders}
        contract_ids = {o.contract.id for o in orders} | {
            c for (a, c) in self.positions if a in account_ids
        }
        return {
            "accounts": [self.accounts[a].as_json() for a in sorted(account_ids)],
            "positions": [p.as_json() for (a, _), p in self.positions.items() if a in account_ids],
            "orders": [o.as_json() for o in orders],
            "orderVersions": [
                v.as_json() for v in self.versions.values() if v.order_id in order_ids
            ],
            "fills": [f.as_json() for f in self.fills.values() if f.order_id in order_ids],
            "cashBalances": [self.cash_balance(self.accounts[a]) for a in sorted(account_ids)],
            "contracts": [self.catalog.contracts_by_id[c].as_json() for c in sorted(contract_ids)],
        }

    # --- internals -------------------------------------------------------------------------

    def _emit(self, account_id: int, entity_type: str, event_type: str, entity: JSON) -> None:
        self.events.append(Event(account_id, entity_type, event_type, entity))

    def _new_version(self, order_id: int, spec: OrderSpec, qty: int) -> OrderVersion:
        version = OrderVersion(
            id=self.ids.take("version"),
            order_id=order_id,
            order_qty=qty,
            order_type=spec.order_type,
            price=spec.price,
            stop_price=spec.stop_price,
            time_in_force=spec.time_in_force,
            timestamp=self.clock(),
        )
        self.versions[version.id] = version
        return version

    def _create(
        self,
        account: Account,
        contract: Contract,
        spec: OrderSpec,
        *,
        status: str,
        parent: Order | None = None,
    ) -> Order:
        order_id = self.ids.take("order")
        qty = spec.qty
        if qty is None:
            assert parent is not None
            qty = parent.version.order_qty
        version = self._new_version(order_id, spec, qty)
        order = Order(
            id=order_id,
            account_id=account.id,
            contract=contract,
            action=spec.action,
            status=status,
            timestamp=self.clock(),
            version=version,
            cl_ord_id=spec.cl_ord_id,
            parent_id=parent.id if parent else None,
            qty_from_parent=spec.qty is None,
        )
        self.orders[order_id] = order
        if parent is not None:
            self._children.setdefault(parent.id, []).append(order_id)
        if status == "Working":
            self._working.setdefault(contract.id, {})[order_id] = order
        self._emit(account.id, "order", "Created", order.as_json())
        self._emit(account.id, "orderVersion", "Created", version.as_json())
        return order

    def _link_oco(self, first: Order, second: Order) -> None:
        link = self.ids.take("oco")
        first.oco_id = second.oco_id = link
        first.linked_id, second.linked_id = second.id, first.id
        self._oco[link] = [first.id, second.id]
        for order in (first, second):
            self._emit(order.account_id, "order", "Updated", order.as_json())

    def _set_status(self, order: Order, status: str) -> None:
        order.status = status
        order.timestamp = self.clock()
        working = self._working.setdefault(order.contract.id, {})
        if status == "Working":
            working[order.id] = order
        else:
            working.pop(order.id, None)
        self._emit(order.account_id, "order", "Updated", order.as_json())

    def _cancel_children(self, order: Order) -> None:
        for child_id in self._children.get(order.id, []):
            child = self.orders[child_id]
            if child.status == "Suspended":
                self._set_status(child, "Canceled")

    def _marketable(self, order: Order, price: Decimal) -> bool:
        version = order.version
        buy = order.action == "Buy"
        if version.order_type in ("Stop", "StopLimit") and not order.triggered:
            stop = version.stop_price
            assert stop is not None
            if (buy and price >= stop) or (not buy and price <= stop):
                order.triggered = True
            else:
                return False
        if version.order_type in ("Market", "Stop"):
            return True
        limit = version.price
        assert limit is not None
        return price <= limit if buy else price >= limit

    def _match(self, contract: Contract) -> None:
        """Fill every resting order the current price reaches, until none is left."""
        price = self.price(contract)
        working = self._working.setdefault(contract.id, {})
        while True:
            due = next(
                (
                    o
                    for o in sorted(working.values(), key=lambda o: o.id)
                    if self._marketable(o, price)
                ),
                None,
            )
            if due is None:
                return
            self._fill(due, price)

    def _fill(self, order: Order, price: Decimal) -> None:
        now = self.clock()
        qty = order.version.order_qty
        fill = Fill(
            id=self.ids.take("fill"),
            order_id=order.id,
            contract_id=order.contract.id,
            timestamp=now,
            action=order.action,
            qty=qty,
            price=price,
        )
        self.fills[fill.id] = fill
        self._set_status(order, "Filled")
        self._emit(order.account_id, "fill", "Created", fill.as_json())
        key = (order.account_id, order.contract.id)
        position = self.positions.get(key)
        created = position is None
        if position is None:
            position = Position(
                id=self.ids.take("position"),
                account_id=order.account_id,
                contract=order.contract,
                timestamp=now,
            )
            self.positions[key] = position
        position.timestamp = now
        realized = position.apply(order.action, qty, price)
        self._emit(
            order.account_id, "position", "Created" if created else "Updated", position.as_json()
        )
        account = self.accounts[order.account_id]
        if realized:
            account.realized += realized
            self._emit(account.id, "cashBalance", "Updated", self.cash_balance(account))
        for child_id in self._children.get(order.id, []):
            child = self.orders[child_id]
            if child.status != "Suspended":
                continue
            if child.qty_from_parent and child.version.order_qty != qty:
                spec = OrderSpec(
                    action=child.action,
                    qty=qty,
                    order_type=child.version.order_type,
                    price=child.version.price,
                    stop_price=child.version.stop_price,
                    time_in_force=child.version.time_in_force,
                    cl_ord_id=None,
                )
                child.version = self._new_version(child.id, spec, qty)
                self._emit(child.account_id, "orderVersion", "Created", child.version.as_json())
            self._set_status(child, "Working")
        if order.oco_id is not None:
            for other_id in self._oco.get(order.oco_id, []):
                other = self.orders[other_id]
                if other.id != order.id and other.status in LIVE_STATUSES:
                    self._set_status(other, "Canceled")
