"""The broker's user stream applied to the database: orders, fills, positions, cash.

`mirror_apply` takes one event of a login's user stream (Tradovate ``props``) or the full
snapshot (``sync``, which also reconciles: `trading.reconcile`). What it guarantees:

- Idempotent. Broker ids are the keys (a fill by its id, a position by account + contract, an
  order by its id or our clOrdId), and a report the Order state machine cannot reach is stale
  and changes nothing: the same event twice, or an old one replayed after a reconnect or around
  the broker's daily reset, leaves the mirror as it was.
- Our orders are recognised by our rows (the clOrdId we wrote before the call, or the broker id
  our call got back); an order the product did not place is recorded as ``external`` and never
  acted on as ours. An order in doubt that turns up on the stream is settled by it.
- Order states move only through `trading.order_states`; fills give an order its filled
  quantity and average price (partly filled, filled).
- Each committed change is pushed to the owner's open tabs (`trading.live_frames`), best effort.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from accounts.models import BrokerConnection, Subaccount
from trading.brokers.base import BrokerError
from trading.brokers.services import broker_for
from trading.brokers.tradovate.ws import StreamEvent
from trading.contracts import parse_symbol
from trading.live_frames import mirror_changes_publish
from trading.mirror_signals import fill_recorded, orders_changed
from trading.models import CashBalance, Fill, Order, Position
from trading.order_states import Source, order_fills_record, order_observe

logger = logging.getLogger(__name__)

CONTRACT_NAME_SECONDS = 24 * 3600


@dataclass
class Changes:
    """What one application changed, for the browser; ``source`` names who moved orders."""

    source: str = Source.STREAM
    orders: set[int] = field(default_factory=set)
    positions: set[int] = field(default_factory=set)
    fills: set[int] = field(default_factory=set)
    outcomes: set[int] = field(default_factory=set)
    cash: set[int] = field(default_factory=set)  # CashBalance rows

    def add_order(self, row: Order) -> None:
        self.orders.add(row.pk)
        if row.outcome_id is not None:
            self.outcomes.add(row.outcome_id)

    def __bool__(self) -> bool:
        return bool(self.orders or self.positions or self.fills or self.outcomes or self.cash)


@dataclass
class Login:
    """One broker login as the mirror needs it: its accounts by broker id, and contract names."""

    connection: BrokerConnection
    accounts: dict[int, Subaccount]
    names: dict[int, str] = field(default_factory=dict)

    def account(self, broker_account_id: object) -> Subaccount | None:
        return self.accounts.get(broker_account_id) if isinstance(broker_account_id, int) else None

    def contract_name(self, contract_id: int) -> str:
        if contract_id not in self.names:
            self.names.update(contract_names_get(self.connection, {contract_id}))
        return self.names.get(contract_id, str(contract_id))


def login_load(*, connection_pk: int) -> Login | None:
    connection = BrokerConnection.objects.filter(pk=connection_pk).first()
    if connection is None:
        return None
    accounts = {s.broker_account_id: s for s in connection.subaccounts.all()}
    return Login(connection=connection, accounts=accounts)


def contract_names_get(connection: BrokerConnection, contract_ids: set[int]) -> dict[int, str]:
    """Contract names, from the cache (an environment's contract ids never change meaning) or
    asked of the broker once. A contract the broker cannot name keeps its id as its name."""
    keys = {cid: _contract_key(connection, cid) for cid in contract_ids}
    found = cache.get_many(list(keys.values()))
    names = {cid: found[key] for cid, key in keys.items() if key in found}
    missing = contract_ids - names.keys()
    if missing:
        try:
            broker = broker_for(connection=connection)
            try:
                asked = broker.contract_names(contract_ids=missing)
            finally:
                broker.close()
        except BrokerError as exc:
            logger.warning("mirror: contracts %s could not be named: %s", sorted(missing), exc)
            asked = {}
        contract_names_remember(connection, asked)
        names.update(asked)
    return names


def _contract_key(connection: BrokerConnection, contract_id: int) -> str:
    """Ids mean one contract within one environment only: Tradovate demo and live keep their
    own, and each simulator (its URL) numbers its contracts as they are first traded. (Keyed
    by id alone, a second simulator's MNQ was named after the first one's MES, and a copy went
    to the wrong contract.)"""
    environment = connection.broker
    if environment == BrokerConnection.Broker.SIMULATOR:
        environment = f"{environment}@{settings.SIMULATOR_URL}"
    return f"contract-name:{environment}:{contract_id}"


def contract_names_remember(connection: BrokerConnection, names: dict[int, str]) -> None:
    if names:
        cache.set_many(
            {_contract_key(connection, cid): name for cid, name in names.items()},
            timeout=CONTRACT_NAME_SECONDS,
        )


def mirror_apply(*, connection_pk: int, event: StreamEvent) -> None:
    """Apply one user-stream event of a broker login (``props``), or a full snapshot
    (``entity_type == "sync"``, which also reconciles), to the mirror. Idempotent: broker ids
    are the keys, so an event applied twice changes nothing. Runs in a thread of the streams
    process (blocking, Django ORM); events of one login must be applied in arrival order."""
    login = login_load(connection_pk=connection_pk)
    if login is None:
        return
    if event.entity_type == "sync":
        from trading.reconcile import snapshot_reconcile  # reconcile builds on this module

        snapshot = event.entity if isinstance(event.entity, dict) else {}
        snapshot_reconcile(login=login, snapshot=snapshot)
        return
    changes = Changes()
    entity = event.entity if isinstance(event.entity, dict) else {}
    apply = _APPLIERS.get(event.entity_type)
    if apply is None:
        return
    apply(login, entity, event.event_type, changes)
    changes_publish(login, changes)


def changes_publish(login: Login, changes: Changes) -> None:
    if changes.orders:
        order_pks = sorted(changes.orders)
        transaction.on_commit(lambda: orders_announce(order_pks=order_pks))
    if changes:
        user_id = login.connection.user_id
        transaction.on_commit(
            lambda: mirror_changes_publish(
                user_id=user_id,
                order_pks=sorted(changes.orders),
                position_pks=sorted(changes.positions),
                fill_pks=sorted(changes.fills),
                outcome_pks=sorted(changes.outcomes),
                cash_pks=sorted(changes.cash),
            )
        )


# --- orders -------------------------------------------------------------------------------------


def order_apply(login: Login, entity: dict[str, Any], event_type: str, changes: Changes) -> None:
    """An ``order`` entity: find our row (or record an external one) and take its status."""
    order_id = entity.get("id")
    subaccount = login.account(entity.get("accountId"))
    if not isinstance(order_id, int) or subaccount is None:
        return
    row = order_row_find(login, subaccount=subaccount, entity=entity)
    if row is None:
        return
    status = str(entity.get("ordStatus") or "")
    words = str(entity.get("text") or entity.get("rejectReason") or "")
    if event_type == "Deleted" and not status:
        status = "Canceled"
    before = (row.state, row.broker_order_id, row.broker_oco_id)
    oco = _int(entity.get("ocoId"))
    linked: dict[str, Any] = {} if oco is None else {"broker_oco_id": oco}
    order_observe(
        row,
        status=status,
        source=changes.source,
        words=words,
        error=f"the broker rejected it: {words}" if status == "Rejected" and words else None,
        broker_order_id=order_id,
        **linked,
    )
    if (row.state, row.broker_order_id, row.broker_oco_id) != before:
        changes.add_order(row)
        if before[0] == Order.State.IN_DOUBT:
            in_doubt_settled(row)


def order_row_find(login: Login, *, subaccount: Subaccount, entity: dict[str, Any]) -> Order | None:
    """Our row of this broker order: by its id, else by our clOrdId, else a close we sent
    without a clOrdId (liquidateposition) still waiting for its id; else a new external row."""
    order_id = int(entity["id"])
    row = (
        Order.objects.filter(subaccount=subaccount, broker_order_id=order_id)
        .order_by("-id")
        .first()
    )
    if row is not None:
        return row
    cl_ord_id = entity.get("clOrdId")
    if isinstance(cl_ord_id, str) and cl_ord_id:
        row = Order.objects.filter(subaccount=subaccount, cl_ord_id=cl_ord_id).first()
        if row is not None:
            return row
    contract_id = _int(entity.get("contractId"))
    symbol = login.contract_name(contract_id) if contract_id is not None else ""
    if not cl_ord_id:
        row = (
            Order.objects.filter(
                subaccount=subaccount,
                role=Order.Role.FLATTEN,
                broker_order_id__isnull=True,
                state__in=(Order.State.SUBMITTED, Order.State.IN_DOUBT),
                symbol=symbol,
            )
            .order_by("-id")
            .first()
        )
        if row is not None:
            return row
    return order_external_record(
        subaccount=subaccount,
        order_id=order_id,
        contract_id=contract_id,
        symbol=symbol,
        entity=entity,
    )


def order_external_record(
    *,
    subaccount: Subaccount,
    order_id: int,
    contract_id: int | None,
    symbol: str,
    entity: dict[str, Any],
) -> Order:
    """The row of an order placed at the broker by hand (or by another app): external, never
    ours to act on. Its quantity and prices come with its ``orderVersion``."""
    status = str(entity.get("ordStatus") or "")
    try:
        with transaction.atomic():
            return Order.objects.create(
                cl_ord_id=f"ext-{subaccount.connection_id}-{order_id}",
                subaccount=subaccount,
                broker_order_id=order_id,
                contract_id=contract_id,
                symbol=symbol,
                side=str(entity.get("action") or "")[:4],
                qty=0,
                order_type="",
                role=Order.Role.EXTERNAL,
                external=True,
                state=Order.State.SUBMITTED,
                broker_status=status[:20],
            )
    except IntegrityError:  # recorded meanwhile (a replay racing a sync)
        return Order.objects.get(cl_ord_id=f"ext-{subaccount.connection_id}-{order_id}")


def order_version_apply(
    login: Login, entity: dict[str, Any], event_type: str, changes: Changes
) -> None:
    """An ``orderVersion``: the order's quantity, type and prices (a modification at the broker,
    ours or by hand, shows here)."""
    order_id = _int(entity.get("orderId"))
    if order_id is None:
        return
    row = order_by_broker_id(login, order_id)
    if row is None:
        return
    fields: dict[str, Any] = {}
    qty = _int(entity.get("orderQty"))
    if qty is not None and qty > 0:
        fields["qty"] = qty
    if entity.get("orderType"):
        fields["order_type"] = str(entity["orderType"])[:10]
    for name, key in (("price", "price"), ("stop_price", "stopPrice")):
        if entity.get(key) is not None:
            fields[name] = Decimal(str(entity[key]))
    if any(getattr(row, k) != v for k, v in fields.items()):
        order_observe(row, source=changes.source, **fields)
        changes.add_order(row)


def order_by_broker_id(login: Login, order_id: int) -> Order | None:
    """Our row of the login's broker order ``order_id`` (a fill or a version names no account);
    the newest when a restarted paper broker used the id before (Tradovate's never repeat)."""
    return (
        Order.objects.filter(subaccount__in=login.accounts.values(), broker_order_id=order_id)
        .order_by("-id")
        .first()
    )


def in_doubt_settled(row: Order) -> None:
    """An order that was in doubt is known now: its outcome goes on at once (its next look-up
    would find it anyway; this saves the wait)."""
    if row.outcome_id is None:
        return
    from trading.tasks import settle_in_doubt  # the task module imports the executor

    outcome_pk = row.outcome_id
    transaction.on_commit(lambda: settle_in_doubt.delay(outcome_pk))


# --- fills, positions, cash ---------------------------------------------------------------------


def fill_apply(login: Login, entity: dict[str, Any], event_type: str, changes: Changes) -> None:
    """A ``fill``: recorded once by the broker's fill id; its order's filled quantity and
    average price follow from all its fills."""
    fill_id, order_id = _int(entity.get("id")), _int(entity.get("orderId"))
    if fill_id is None or order_id is None or entity.get("active") is False:
        return
    row = order_by_broker_id(login, order_id)
    if row is None:
        logger.info(
            "mirror: fill %s of unknown order %s (the next sync records it)", fill_id, order_id
        )
        return
    contract_id = _int(entity.get("contractId")) or row.contract_id or 0
    with transaction.atomic():
        fill, created = Fill.objects.get_or_create(
            subaccount=row.subaccount,
            broker_fill_id=fill_id,
            defaults={
                "order": row,
                "broker_order_id": order_id,
                "contract_id": contract_id,
                "symbol": row.symbol or login.contract_name(contract_id),
                "side": str(entity.get("action") or row.side)[:4],
                "qty": int(entity.get("qty") or 0),
                "price": Decimal(str(entity.get("price"))),
                "filled_at": _when(entity.get("timestamp")),
                "trade_date": _trade_date(entity.get("tradeDate")),
            },
        )
    if not created:
        return
    changes.fills.add(fill.pk)
    fill_pk, subaccount_pk = fill.pk, fill.subaccount_id
    transaction.on_commit(lambda: fill_announce(fill_pk=fill_pk, subaccount_pk=subaccount_pk))
    lots = list(Fill.objects.filter(order=row).values_list("qty", "price"))
    filled = sum(qty for qty, _ in lots)
    value = sum((price * qty for qty, price in lots), Decimal(0))
    average = (value / filled).quantize(Decimal("0.00000001")) if filled else None
    if row.external and row.qty < filled:
        order_observe(row, source=changes.source, qty=filled)
    order_fills_record(row, filled_qty=filled, avg_fill_price=average, source=changes.source)
    changes.add_order(row)


def orders_announce(*, order_pks: list[int]) -> None:
    """Tell the receivers (copy trading's exits) which orders changed; never raises."""
    for receiver, result in orders_changed.send_robust(sender=Order, order_pks=order_pks):
        if isinstance(result, Exception):
            logger.error("mirror: orders %s: %r failed: %s", order_pks, receiver, result)


def fill_announce(*, fill_pk: int, subaccount_pk: int) -> None:
    """Tell the receivers (copy trading) of a newly recorded fill; a receiver's failure is
    logged with its words and never undoes or stops the mirror."""
    for receiver, result in fill_recorded.send_robust(
        sender=Fill, fill_pk=fill_pk, subaccount_pk=subaccount_pk
    ):
        if isinstance(result, Exception):
            logger.error("mirror: fill %s: %r failed: %s", fill_pk, receiver, result)


def position_apply(login: Login, entity: dict[str, Any], event_type: str, changes: Changes) -> None:
    """A ``position``: the account's net position in one contract, newest report wins."""
    subaccount = login.account(entity.get("accountId"))
    contract_id = _int(entity.get("contractId"))
    if subaccount is None or contract_id is None:
        return
    reported = _when(entity.get("timestamp"))
    symbol = login.contract_name(contract_id)
    net_pos = 0 if event_type == "Deleted" else int(entity.get("netPos") or 0)
    net_price = entity.get("netPrice") if net_pos != 0 else None
    values = {
        "symbol": symbol,
        "net_pos": net_pos,
        "net_price": None if net_price is None else Decimal(str(net_price)),
        "bought": int(entity.get("bought") or 0),
        "sold": int(entity.get("sold") or 0),
        "realized_pnl": realized_pnl(symbol=symbol, entity=entity, net_pos=net_pos),
        "trade_date": _trade_date(entity.get("tradeDate")),
        "broker_timestamp": reported,
    }
    if net_pos == 0:
        values["problem"] = ""  # nothing open: nothing left to protect
    with transaction.atomic():
        position, created = Position.objects.select_for_update().get_or_create(
            subaccount=subaccount, contract_id=contract_id, defaults=values
        )
        if not created:
            if position.broker_timestamp is not None and reported < position.broker_timestamp:
                return  # an older report replayed: the newer one stands
            if all(getattr(position, k) == v for k, v in values.items()):
                return
            for name, value in values.items():
                setattr(position, name, value)
            position.save()
    changes.positions.add(position.pk)


def realized_pnl(*, symbol: str, entity: dict[str, Any], net_pos: int) -> Decimal | None:
    """The day's realized P&L in dollars: what was sold minus what was bought, the open part
    valued at its average price, times the contract's dollars per point."""
    try:
        spec = parse_symbol(symbol).spec
    except ValueError:
        return None
    sold = Decimal(str(entity.get("soldValue") or 0))
    bought = Decimal(str(entity.get("boughtValue") or 0))
    open_value = Decimal(str(entity.get("netPrice") or 0)) * net_pos
    points = sold - bought + open_value
    return (points * spec.value_per_point).quantize(Decimal("0.01"))


def cash_apply(login: Login, entity: dict[str, Any], event_type: str, changes: Changes) -> None:
    subaccount = login.account(entity.get("accountId"))
    if subaccount is None or entity.get("amount") is None:
        return
    cash, _ = CashBalance.objects.update_or_create(
        subaccount=subaccount,
        defaults={
            "amount": Decimal(str(entity["amount"])).quantize(Decimal("0.01")),
            "realized_pnl": Decimal(str(entity.get("realizedPnL") or 0)).quantize(Decimal("0.01")),
            "trade_date": _trade_date(entity.get("tradeDate")),
            "broker_timestamp": _when(entity.get("timestamp")),
        },
    )
    changes.cash.add(cash.pk)  # the balance on the open pages follows


_APPLIERS = {
    "order": order_apply,
    "orderVersion": order_version_apply,
    "fill": fill_apply,
    "position": position_apply,
    "cashBalance": cash_apply,
}


# --- the broker's values ------------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def _when(value: object) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        from django.utils import timezone

        return timezone.now()
    return parsed


def _trade_date(value: object) -> date | None:
    if isinstance(value, dict):
        try:
            return date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None
