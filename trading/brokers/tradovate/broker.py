"""``Broker`` over Tradovate REST: typed results from Tradovate's entities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trading.brokers.base import (
    WORKING_STATUSES,
    BracketLeg,
    BracketRequest,
    BrokerAccount,
    BrokerError,
    BrokerPosition,
    ContractInfo,
    DayPnL,
    KnownOrder,
    OrderRequest,
    OrderType,
    PlacedBracket,
    PlacedOco,
    PlacedOrder,
    Side,
    WorkingOrder,
)
from trading.brokers.tradovate.rest import TradovateREST, wire_price


def _require(entity: Any, key: str, kind: type | tuple[type, ...], *, endpoint: str) -> Any:
    if not isinstance(entity, dict):
        raise BrokerError(
            f"Tradovate's answer to {endpoint} has an item that is not an object: "
            f"{str(entity)[:200]}",
            endpoint=endpoint,
        )
    value = entity.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BrokerError(
            f"Tradovate's answer to {endpoint} has no valid {key!r}: {str(entity)[:200]}",
            endpoint=endpoint,
        )
    return value


def _list(answer: Any, *, endpoint: str) -> list[Any]:
    if not isinstance(answer, list):
        raise BrokerError(
            f"Tradovate answered {endpoint} with {type(answer).__name__}, expected a list",
            endpoint=endpoint,
        )
    return answer


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


_CONTRACT_NAMES: dict[str, dict[int, str]] = {}


class TradovateBroker:
    """Implements ``trading.brokers.base.Broker`` for one Tradovate (or simulator) login."""

    def __init__(self, rest: TradovateREST) -> None:
        self.rest = rest
        # Contract ids and names never change: one cache per process and server, not per call.
        self._contract_names = _CONTRACT_NAMES.setdefault(rest.rest_url, {})

    def close(self) -> None:
        """Release the REST client (the process's shared client stays open)."""
        self.rest.close()

    # --- reads --------------------------------------------------------------------------------

    def accounts(self) -> list[BrokerAccount]:
        endpoint = "account/list"
        return [
            BrokerAccount(
                id=_require(a, "id", int, endpoint=endpoint),
                name=_require(a, "name", str, endpoint=endpoint),
                active=a.get("active") is not False,
            )
            for a in _list(self.rest.call("GET", endpoint), endpoint=endpoint)
        ]

    def positions(self, *, account_id: int | None = None) -> list[BrokerPosition]:
        endpoint = "position/list"
        rows = [
            p
            for p in _list(self.rest.call("GET", endpoint), endpoint=endpoint)
            if account_id is None or _require(p, "accountId", int, endpoint=endpoint) == account_id
        ]
        names = self._names({_require(p, "contractId", int, endpoint=endpoint) for p in rows})
        result = []
        for p in rows:
            net_pos = _require(p, "netPos", int, endpoint=endpoint)
            result.append(
                BrokerPosition(
                    account_id=_require(p, "accountId", int, endpoint=endpoint),
                    contract_id=p["contractId"],
                    symbol=names[p["contractId"]],
                    net_pos=net_pos,
                    net_price=_decimal(p.get("netPrice")) if net_pos != 0 else None,
                )
            )
        return result

    def working_orders(self, *, account_id: int | None = None) -> list[WorkingOrder]:
        endpoint = "order/list"
        orders = [
            o
            for o in _list(self.rest.call("GET", endpoint), endpoint=endpoint)
            if _require(o, "ordStatus", str, endpoint=endpoint) in WORKING_STATUSES
            and (
                account_id is None or _require(o, "accountId", int, endpoint=endpoint) == account_id
            )
        ]
        if not orders:
            return []
        # Prices and quantities live on the order's latest version.
        versions: dict[int, dict[str, Any]] = {}
        for v in _list(self.rest.call("GET", "orderVersion/list"), endpoint="orderVersion/list"):
            order_id = _require(v, "orderId", int, endpoint="orderVersion/list")
            if order_id not in versions or v.get("id", 0) > versions[order_id].get("id", 0):
                versions[order_id] = v
        names = self._names({_require(o, "contractId", int, endpoint=endpoint) for o in orders})
        result = []
        for o in orders:
            version = versions.get(o["id"], {})
            result.append(
                WorkingOrder(
                    order_id=_require(o, "id", int, endpoint=endpoint),
                    account_id=o["accountId"],
                    contract_id=o["contractId"],
                    symbol=names[o["contractId"]],
                    side=Side(_require(o, "action", str, endpoint=endpoint)),
                    status=o["ordStatus"],
                    order_type=version.get("orderType"),
                    qty=version.get("orderQty"),
                    price=_decimal(version.get("price")),
                    stop_price=_decimal(version.get("stopPrice")),
                    oco_id=o.get("ocoId"),
                    parent_id=o.get("parentId"),
                    cl_ord_id=o.get("clOrdId"),
                )
            )
        return result

    def day_pnl(self, *, account_id: int) -> DayPnL:
        """Today's realized (and open) P&L of one account, from its cash balance snapshot."""
        endpoint = "cashBalance/getcashbalancesnapshot"
        answer = self.rest.call("POST", endpoint, body={"accountId": account_id})
        realized = _decimal(_require(answer, "realizedPnL", (int, Decimal), endpoint=endpoint))
        assert realized is not None
        return DayPnL(
            account_id=account_id, realized=realized, open=_decimal(answer.get("openPnL"))
        )

    def order_statuses(self, *, account_id: int) -> dict[int, str]:
        """Every order of the account, working or not, by id -> its ``ordStatus``."""
        endpoint = "order/list"
        return {
            _require(o, "id", int, endpoint=endpoint): _require(
                o, "ordStatus", str, endpoint=endpoint
            )
            for o in _list(self.rest.call("GET", endpoint), endpoint=endpoint)
            if _require(o, "accountId", int, endpoint=endpoint) == account_id
        }

    def initial_stop_price(self, *, order_id: int) -> Decimal | None:
        """The stop price the order was placed with (its first version's); None if it had none.
        Stays right however often the stop was moved since, and across restarts."""
        endpoint = "orderVersion/deps"
        versions = _list(
            self.rest.call("GET", endpoint, params={"masterid": order_id}), endpoint=endpoint
        )
        if not versions:
            return None
        first = min(versions, key=lambda v: _require(v, "id", int, endpoint=endpoint))
        return _decimal(first.get("stopPrice"))

    def contract(self, *, name: str) -> ContractInfo:
        endpoint = "contract/find"
        answer = self.rest.call("GET", endpoint, params={"name": name})
        info = ContractInfo(
            id=_require(answer, "id", int, endpoint=endpoint),
            name=_require(answer, "name", str, endpoint=endpoint),
        )
        self._contract_names[info.id] = info.name
        return info

    def contract_names(self, *, contract_ids: set[int]) -> dict[int, str]:
        return self._names(contract_ids)

    def _names(self, contract_ids: set[int]) -> dict[int, str]:
        missing = sorted(cid for cid in contract_ids if cid not in self._contract_names)
        if missing:
            endpoint = "contract/items"
            for c in _list(
                self.rest.call("GET", endpoint, params={"ids": ",".join(map(str, missing))}),
                endpoint=endpoint,
            ):
                self._contract_names[_require(c, "id", int, endpoint=endpoint)] = _require(
                    c, "name", str, endpoint=endpoint
                )
        unknown = [cid for cid in contract_ids if cid not in self._contract_names]
        if unknown:
            raise BrokerError(
                f"Tradovate did not describe contracts {unknown}", endpoint="contract/items"
            )
        return {cid: self._contract_names[cid] for cid in contract_ids}

    # --- writes (always REST, always isAutomated, always a clOrdId) ----------------------------

    @staticmethod
    def _order_body(request: OrderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "accountSpec": request.account_name,
            "accountId": request.account_id,
            "clOrdId": request.cl_ord_id,
            "action": request.side.value,
            "symbol": request.symbol,
            "orderQty": request.qty,
            "orderType": request.order_type.value,
            "timeInForce": request.time_in_force,
            "isAutomated": True,
        }
        if request.price is not None:
            body["price"] = wire_price(request.price)
        if request.stop_price is not None:
            body["stopPrice"] = wire_price(request.stop_price)
        return body

    @staticmethod
    def _leg(side: Side, leg: BracketLeg) -> dict[str, Any]:
        body: dict[str, Any] = {"action": side.value, "orderType": leg.order_type.value}
        if leg.price is not None:
            body["price"] = wire_price(leg.price)
        if leg.stop_price is not None:
            body["stopPrice"] = wire_price(leg.stop_price)
        if leg.qty is not None:
            body["orderQty"] = leg.qty
        return body

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        endpoint = "order/placeorder"
        answer = self.rest.call("POST", endpoint, body=self._order_body(request), order_call=True)
        return PlacedOrder(
            order_id=_require(answer, "orderId", int, endpoint=endpoint),
            cl_ord_id=request.cl_ord_id,
        )

    def place_bracket(self, request: BracketRequest) -> PlacedBracket:
        endpoint = "order/placeoso"
        body = self._order_body(request.entry)
        exit_side = request.entry.side.opposite
        legs = [leg for leg in (request.take_profit, request.stop) if leg is not None]
        for index, leg in enumerate(legs, start=1):
            body[f"bracket{index}"] = self._leg(exit_side, leg)
        answer = self.rest.call("POST", endpoint, body=body, order_call=True)
        ids = [answer.get("oso1Id"), answer.get("oso2Id")] if isinstance(answer, dict) else []
        by_leg = dict(zip(legs, ids, strict=False))
        return PlacedBracket(
            entry_order_id=_require(answer, "orderId", int, endpoint=endpoint),
            take_profit_order_id=by_leg.get(request.take_profit) if request.take_profit else None,
            stop_order_id=by_leg.get(request.stop) if request.stop else None,
            cl_ord_id=request.entry.cl_ord_id,
        )

    def place_oco(self, first: OrderRequest, other: OrderRequest) -> PlacedOco:
        """Two orders of one account and symbol, linked: when one fills the other is cancelled."""
        endpoint = "order/placeoco"
        body = self._order_body(first)
        other_body = self._order_body(other)
        body["other"] = {
            k: other_body[k]
            for k in ("action", "orderType", "price", "stopPrice", "orderQty", "clOrdId")
            if k in other_body
        }
        answer = self.rest.call("POST", endpoint, body=body, order_call=True)
        return PlacedOco(
            order_id=_require(answer, "orderId", int, endpoint=endpoint),
            other_order_id=_require(answer, "ocoId", int, endpoint=endpoint),
        )

    def order_id_for(self, *, account_id: int, cl_ord_id: str) -> int | None:
        """The broker's id of the order sent with ``cl_ord_id`` (any status), if it has one."""
        known = self.order_lookup(account_id=account_id, cl_ord_id=cl_ord_id)
        return None if known is None else known.order_id

    def order_lookup(self, *, account_id: int, cl_ord_id: str) -> KnownOrder | None:
        """The order sent with ``cl_ord_id`` on the account (any status) with its status, or
        None when the broker has no such order (it never arrived, or not yet)."""
        endpoint = "order/list"
        for order in _list(self.rest.call("GET", endpoint), endpoint=endpoint):
            if (
                isinstance(order, dict)
                and order.get("clOrdId") == cl_ord_id
                and order.get("accountId") == account_id
            ):
                return KnownOrder(
                    order_id=_require(order, "id", int, endpoint=endpoint),
                    status=_require(order, "ordStatus", str, endpoint=endpoint),
                )
        return None

    def cancel_order(self, *, order_id: int) -> None:
        self.rest.call(
            "POST",
            "order/cancelorder",
            body={"orderId": order_id, "isAutomated": True},
            order_call=True,
        )

    def modify_order(
        self,
        *,
        order_id: int,
        qty: int,
        order_type: OrderType,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "orderId": order_id,
            "orderQty": qty,
            "orderType": order_type.value,
            "isAutomated": True,
        }
        if price is not None:
            body["price"] = wire_price(price)
        if stop_price is not None:
            body["stopPrice"] = wire_price(stop_price)
        self.rest.call("POST", "order/modifyorder", body=body, order_call=True)

    def flatten(self, *, account_id: int, contract_id: int) -> int | None:
        answer = self.rest.call(
            "POST",
            "order/liquidateposition",
            body={
                "accountId": account_id,
                "contractId": contract_id,
                "admin": False,
                "isAutomated": True,
            },
            order_call=True,
        )
        order_id = answer.get("orderId") if isinstance(answer, dict) else None
        return order_id if isinstance(order_id, int) else None
