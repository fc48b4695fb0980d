"""Writes the trading UI makes: strategies, traders, their accounts, and the control centre.

Callers pass objects already fetched through ``accounts.tenancy`` (another tenant's object
never reaches these functions); where a second object comes from user input (a subaccount
added to a trader) the function checks it belongs to the same user and raises otherwise.

The control centre (Z7: "flatten" is a product feature, never a one-off script) reads what is
open at the broker, shows it, and closes exactly that on confirmation: cancel the account's
working orders, then flatten every open position, each broker error kept in the broker's words.
Given a contract, the same flow closes one position: that contract's working orders (its stop
and take-profits), then that position.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import BrokerConnection, Subaccount, User
from billing.limits import plan_feature_check, plan_limit_check
from trading.brokers.base import Broker, BrokerError, BrokerPosition, WorkingOrder
from trading.brokers.services import broker_for
from trading.models import Strategy, Trader, TraderAccount
from trading.orders import order_cancel, orders_settle, position_flatten
from trading.position_lock import position_lock
from trading.services import Received, signal_receive

# --- strategies -------------------------------------------------------------------------------

logger = logging.getLogger(__name__)


class NameTakenError(ValueError):
    """The user already has a strategy or trader with this name."""


def _check_visibility(*, user: User, visibility: Any) -> None:
    if visibility == Strategy.Visibility.PREMIUM:
        plan_feature_check(user=user, feature="premium_strategies")


def strategy_create(*, user: User, fields: dict[str, Any]) -> Strategy:
    """Create ``user``'s strategy with exactly ``fields`` (model field names).

    Raises ``PlanLimitError`` when the plan has no strategies (or no premium strategies for
    premium visibility) and ``NameTakenError`` for a name the user already uses.
    """
    plan_feature_check(user=user, feature="strategies")
    _check_visibility(user=user, visibility=fields.get("visibility"))
    try:
        with transaction.atomic():
            return Strategy.objects.create(user=user, **fields)
    except IntegrityError:
        raise NameTakenError("You already have a strategy with this name.") from None


def strategy_update(*, strategy: Strategy, fields: dict[str, Any]) -> Strategy:
    """Set exactly ``fields`` and nothing else: an untouched form saves the same values (D06)."""
    if fields.get("visibility") != strategy.visibility:
        _check_visibility(user=strategy.user, visibility=fields.get("visibility"))
    for name, value in fields.items():
        setattr(strategy, name, value)
    try:
        with transaction.atomic():
            strategy.save(update_fields=list(fields))
    except IntegrityError:
        raise NameTakenError("You already have a strategy with this name.") from None
    return strategy


def strategy_webhook_token_rotate(*, strategy: Strategy) -> Strategy:
    """Give the strategy a new secret webhook URL: the old one stops at once (404), alerts
    must be sent to the new one. Nothing else changes."""
    from trading.models import new_webhook_token

    strategy.webhook_token = new_webhook_token()
    strategy.save(update_fields=["webhook_token"])
    return strategy


TEST_ALERT_ACTIONS = ("buy", "sell", "close")


def strategy_test_alert_symbol(*, strategy: Strategy) -> str:
    """The symbol a test alert carries unless the user picks another: the strategy's symbol
    override, else the continuous contract of the first root its allow-list names, else MNQ1!
    (so the default test alert is never one the strategy's own allow-list rejects)."""
    if strategy.symbol_override:
        return strategy.symbol_override
    allowed = list(strategy.symbol_allow_list or [])
    return f"{allowed[0]}1!" if allowed else "MNQ1!"


def strategy_test_alert_body(*, strategy: Strategy, action: str, symbol: str = "") -> bytes:
    """A sample indicator alert for ``strategy`` on ``symbol`` (default:
    ``strategy_test_alert_symbol``); a fresh ``id`` so it is never a duplicate."""
    body = {
        "action": action,
        "ticker": symbol or strategy_test_alert_symbol(strategy=strategy),
        "id": f"test-{uuid.uuid4().hex[:12]}",
    }
    return json.dumps(body).encode()


def strategy_test_alert_send(
    *, strategy: Strategy, action: str = "buy", symbol: str = ""
) -> Received:
    """Receive a sample alert exactly as the webhook would (stored, marked as a test, executed
    on the strategy owner's own enabled accounts that follow it; never on subscribers')."""
    if action not in TEST_ALERT_ACTIONS:
        raise ValueError(f"test alert action must be one of {TEST_ALERT_ACTIONS}, got {action!r}")
    return signal_receive(
        strategy=strategy,
        raw=strategy_test_alert_body(strategy=strategy, action=action, symbol=symbol),
        content_type="application/json",
        is_test=True,
    )


# --- traders ----------------------------------------------------------------------------------


def strategies_followable(*, user: User) -> Any:
    """The strategies ``user`` may follow: their own, and other users' public ones."""
    from django.db.models import Q

    return Strategy.objects.filter(
        Q(user=user) | Q(visibility=Strategy.Visibility.PUBLIC, enabled=True),
        archived_at__isnull=True,
    ).order_by("name", "id")


def trader_create(*, user: User, strategy: Strategy, fields: dict[str, Any]) -> Trader:
    """Create ``user``'s trader on ``strategy`` with ``fields``, within the plan's trader limit.

    ``strategy`` must be the user's own or public (``ValueError`` otherwise).
    """
    if not strategies_followable(user=user).filter(pk=strategy.pk).exists():
        raise ValueError("That strategy is not yours and not public.")
    plan_feature_check(user=user, feature="strategies")
    try:
        with transaction.atomic():
            current = (
                Trader.objects.select_for_update()
                .filter(user=user, archived_at__isnull=True)
                .count()
            )
            plan_limit_check(user=user, limit="traders", current=current)
            return Trader.objects.create(user=user, strategy=strategy, **fields)
    except IntegrityError:
        raise NameTakenError("You already have a trader with this name.") from None


def trader_update(*, trader: Trader, strategy: Strategy, fields: dict[str, Any]) -> Trader:
    """Set exactly ``fields`` and the strategy (the user's own or public)."""
    if not strategies_followable(user=trader.user).filter(pk=strategy.pk).exists():
        raise ValueError("That strategy is not yours and not public.")
    if fields.get("enabled") and not trader.enabled:
        plan_feature_check(user=trader.user, feature="strategies")
        fields = {**fields, "disabled_reason": ""}
    trader.strategy = strategy
    for name, value in fields.items():
        setattr(trader, name, value)
    try:
        with transaction.atomic():
            trader.save(update_fields=["strategy", *fields])
    except IntegrityError:
        raise NameTakenError("You already have a trader with this name.") from None
    return trader


def trader_enabled_set(*, trader: Trader, enabled: bool, reason: str = "") -> Trader:
    """Switch a trader on or off. Switching on needs a plan with strategies and clears the
    reason it was switched off; ``reason`` says why when someone other than the user switches
    it off (support). Open positions are never touched."""
    if enabled and trader.archived_at is not None:
        raise ValueError("This trader is archived: restore it before switching it on.")
    if enabled:
        plan_feature_check(user=trader.user, feature="strategies")
    trader.enabled = enabled
    trader.disabled_reason = "" if enabled else reason[:200]
    trader.save(update_fields=["enabled", "disabled_reason"])
    return trader


def trader_account_add(
    *,
    trader: Trader,
    subaccount: Subaccount,
    multiplier: Decimal,
    max_contracts: int | None,
    enabled: bool,
) -> TraderAccount:
    """Put ``trader`` on ``subaccount`` (which must be the trader's user's: ``ValueError``
    otherwise). ``max_contracts`` None = no cap (D37). Adding the same account twice raises
    ``ValueError``."""
    if subaccount.connection.user_id != trader.user_id:
        raise ValueError("That trading account belongs to someone else.")
    try:
        with transaction.atomic():
            return TraderAccount.objects.create(
                trader=trader,
                subaccount=subaccount,
                multiplier=multiplier,
                max_contracts=max_contracts,
                enabled=enabled,
            )
    except IntegrityError:
        raise ValueError(f"{subaccount.name} is already on this trader.") from None


def trader_account_update(
    *, account: TraderAccount, multiplier: Decimal, max_contracts: int | None, enabled: bool
) -> TraderAccount:
    """Set the account's multiplier, cap (None = no cap) and on/off; nothing else changes."""
    account.multiplier = multiplier
    account.max_contracts = max_contracts
    account.enabled = enabled
    account.save(update_fields=["multiplier", "max_contracts", "enabled"])
    return account


def trader_account_remove(*, account: TraderAccount) -> None:
    """Take the trader off the account. Positions and orders at the broker stay as they are."""
    account.delete()


# --- the control centre -----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountExposure:
    """What is open on one account at the broker, read at one moment."""

    subaccount: Subaccount
    positions: tuple[BrokerPosition, ...] = ()
    working_orders: tuple[WorkingOrder, ...] = ()
    error: str = ""  # the broker's words when the account could not be read

    @property
    def is_flat(self) -> bool:
        return not self.positions and not self.working_orders and self.error == ""


@dataclass(frozen=True)
class AccountCloseResult:
    """What closing one account actually did."""

    subaccount: Subaccount
    cancelled: tuple[WorkingOrder, ...] = ()
    flattened: tuple[BrokerPosition, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.errors


def _by_connection(
    subaccounts: Iterable[Subaccount],
) -> list[tuple[BrokerConnection, list[Subaccount]]]:
    groups: dict[int, tuple[BrokerConnection, list[Subaccount]]] = {}
    for sub in subaccounts:
        groups.setdefault(sub.connection_id, (sub.connection, []))[1].append(sub)
    return list(groups.values())


def _broker_words(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _in_contract(items: Iterable[Any], contract_id: int | None) -> list[Any]:
    """``items`` (positions or working orders) of ``contract_id``; all of them for None."""
    return [i for i in items if contract_id is None or i.contract_id == contract_id]


def exposure_read(
    *, subaccounts: Sequence[Subaccount], contract_id: int | None = None
) -> list[AccountExposure]:
    """Read every account's open positions (net position not 0) and working orders from the
    broker now, only those of ``contract_id`` when given. An account that cannot be read
    carries the broker's error instead; nothing is raised and nothing is changed."""
    result: dict[int, AccountExposure] = {}
    for connection, subs in _by_connection(subaccounts):
        try:
            broker = broker_for(connection=connection)
        except BrokerError as exc:
            for sub in subs:
                result[sub.pk] = AccountExposure(subaccount=sub, error=_broker_words(exc))
            continue
        try:
            for sub in subs:
                try:
                    positions = _in_contract(
                        broker.positions(account_id=sub.broker_account_id), contract_id
                    )
                    orders = _in_contract(
                        broker.working_orders(account_id=sub.broker_account_id), contract_id
                    )
                except BrokerError as exc:
                    result[sub.pk] = AccountExposure(subaccount=sub, error=_broker_words(exc))
                    continue
                result[sub.pk] = AccountExposure(
                    subaccount=sub,
                    positions=tuple(p for p in positions if p.net_pos != 0),
                    working_orders=tuple(orders),
                )
        finally:
            broker.close()
    return [result[sub.pk] for sub in subaccounts]


def exposure_fingerprint(*, exposures: Sequence[AccountExposure]) -> str:
    """A short digest of what was shown, so a confirmation applies to that state only."""
    parts = [
        [
            e.subaccount.pk,
            sorted((p.contract_id, p.net_pos) for p in e.positions),
            sorted(o.order_id for o in e.working_orders),
        ]
        for e in exposures
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def positions_close_all(
    *,
    subaccounts: Sequence[Subaccount],
    lock_timeout: float = 30.0,
    contract_id: int | None = None,
) -> list[AccountCloseResult]:
    """Close everything on each account: cancel every working order, then flatten every open
    position, as read from the broker at this moment. Given ``contract_id``, only that
    contract's working orders and position (one position closed; the rest untouched).

    One account's failure never stops another (D04); each broker error is kept in the broker's
    words. Our own order records of cancelled orders are marked cancelled. Returns what was
    actually done per account, in the order given.
    """
    results: dict[int, AccountCloseResult] = {}
    for connection, subs in _by_connection(subaccounts):
        try:
            broker = broker_for(connection=connection)
        except BrokerError as exc:
            for sub in subs:
                results[sub.pk] = AccountCloseResult(
                    subaccount=sub, errors=(f"{connection.label}: {_broker_words(exc)}",)
                )
            continue
        try:
            for sub in subs:
                cancelled: list[WorkingOrder] = []
                flattened: list[BrokerPosition] = []
                errors: list[str] = []
                try:
                    with contextlib.ExitStack() as locks:
                        orders, positions = _read_locked(
                            broker, sub, locks, lock_timeout, contract_id
                        )
                        _close_account(broker, sub, orders, positions, cancelled, flattened, errors)
                except BrokerError as exc:
                    errors.append(f"Reading the account: {_broker_words(exc)}")
                except TimeoutError as exc:
                    errors.append(f"{exc}; nothing was closed on it, try again in a moment.")
                results[sub.pk] = AccountCloseResult(
                    subaccount=sub,
                    cancelled=tuple(cancelled),
                    flattened=tuple(flattened),
                    errors=tuple(errors),
                )
        finally:
            broker.close()
    return [results[sub.pk] for sub in subaccounts]


def _read_locked(
    broker: Broker,
    sub: Subaccount,
    locks: contextlib.ExitStack,
    timeout: float,
    contract_id: int | None,
) -> tuple[list[WorkingOrder], list[BrokerPosition]]:
    """Read the account, take the position lock of every symbol it has something open on (one
    writer per position: a signal executing on that symbol finishes first), then read again, so
    what is closed is what is there once nobody else is writing."""

    def read() -> tuple[list[WorkingOrder], list[BrokerPosition]]:
        return (
            _in_contract(broker.working_orders(account_id=sub.broker_account_id), contract_id),
            _in_contract(broker.positions(account_id=sub.broker_account_id), contract_id),
        )

    orders, positions = read()
    symbols = sorted({o.symbol for o in orders} | {p.symbol for p in positions if p.net_pos != 0})
    for symbol in symbols:
        locks.enter_context(position_lock(subaccount=sub, symbol=symbol, timeout=timeout))
    if symbols:
        orders, positions = read()
    return orders, positions


def _close_account(
    broker: Broker,
    sub: Subaccount,
    orders: list[WorkingOrder],
    positions: list[BrokerPosition],
    cancelled: list[WorkingOrder],
    flattened: list[BrokerPosition],
    errors: list[str],
) -> None:
    for order in orders:
        try:
            order_cancel(broker, subaccount=sub, order_id=order.order_id)
        except BrokerError as exc:
            errors.append(
                f"Cancelling order {order.order_id} ({order.symbol}): {_broker_words(exc)}"
            )
        else:
            cancelled.append(order)
    try:  # our rows of what was cancelled say what the broker says now, not "cancel sent"
        orders_settle(broker, subaccount=sub, order_ids=[o.order_id for o in cancelled])
    except BrokerError as exc:  # the stream settles them later; the close goes on
        logger.warning("close all: order states of %s not read: %s", sub.name, exc)
    for position in positions:
        if position.net_pos == 0:
            continue
        try:
            position_flatten(
                broker,
                subaccount=sub,
                contract_id=position.contract_id,
                symbol=position.symbol,
                net_pos=position.net_pos,
            )
        except BrokerError as exc:
            errors.append(f"Flattening {position.symbol}: {_broker_words(exc)}")
        else:
            flattened.append(position)


def trader_subaccounts(*, trader: Trader) -> list[Subaccount]:
    """The distinct trading accounts ``trader`` is on (enabled or not)."""
    return list(
        Subaccount.objects.filter(trader_accounts__trader=trader)
        .select_related("connection")
        .distinct()
        .order_by("name", "id")
    )
