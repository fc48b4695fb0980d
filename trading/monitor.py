"""The position monitor: break-even and trailing stops, acted on live (the ``streams`` process).

``manage.py run_streams`` runs one `trading.monitor_runner.PositionMonitor` (one asyncio
loop); this module is the per-position evaluation it runs in threads. What it guarantees:

- Every few seconds (and at start) it reads from PostgreSQL the working stop orders we placed
  for a signal (`Order` role STOP, state WORKING, with an outcome) whose settings have a
  break-even or a trailing rule, grouped by (subaccount, symbol); for each broker login with
  such stops, or with open positions in the mirror (`trading.monitor_prices`: their open P&L
  needs the last price), it keeps one market-data socket (`QuoteStream`) subscribed to exactly
  those symbols, drops a symbol nothing needs any more, and closes the socket when none are
  left.
- On a quote it decides with the pure `trading.engine_stops.stop_adjustment`. A quote that cannot move
  any stop, judged from the broker state read last time, costs no broker call. Otherwise, per
  (subaccount, symbol) at most one evaluation runs at a time, in a thread: under the
  position's PostgreSQL lock (one writer per position, DESIGN §5.3) it reads the broker's
  position and working orders (the broker is the truth: flat means nothing is touched),
  decides again on that, and moves every stop leg of the position with ``modifyorder``; the
  Order rows take the new ``stop_price``.
- Every move and every failure is appended, with its time, to the reason of the signal outcome
  that placed the stops (the signal log shows it); a refused move also puts the broker's words
  on the stop's Order row. The same failure repeated is recorded once. Nothing is logged with a
  secret in it.
- A failure never stops the loop: broker errors back off (1 s, 2 s, ... 30 s), then the
  position is read again and retried (on a quote or the next refresh); a busy position (a
  signal is being executed) is retried half a second later; a dropped socket reconnects (gate,
  shared cooldown, backoff, resubscribe); a market-data token the broker refuses (revoked when
  another app took the login's last socket) is replaced by one fresh login; a login in error is
  not logged in again (token requests are scarce) until its owner tests the connection anew.
- Stop rows the broker no longer has working are marked filled or cancelled as the broker says.
- ``heartbeat_beat(component="streams")`` every few seconds (D30); ``stop`` ends it cleanly.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from django.utils import timezone

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection, Subaccount
from trading.brokers.base import (
    WORKING_STATUSES,
    Broker,
    BrokerError,
    OrderType,
    WorkingOrder,
)
from trading.brokers.services import (
    broker_for,
    broker_token_usable,
    connection_login_key,
    connection_record_error,
)
from trading.brokers.tradovate.md import md_token_ensure, md_url
from trading.brokers.tradovate.ws import SocketError
from trading.contracts import ContractSpec, is_on_tick, parse_symbol, round_to_tick
from trading.decisions import alert_from_signal
from trading.engine_stops import stop_adjustment
from trading.models import Order
from trading.order_states import Source, order_observe
from trading.orders import stop_modify
from trading.outcome_log import outcome_log_append
from trading.position_lock import position_lock
from trading.settings_mapping import effective_settings
from trading.settings_resolution import BreakEven, Trailing

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[int, str]  # (subaccount pk, symbol)

LOCK_WAIT_SECONDS = 2.0  # a signal holding the position longer: try again on a later quote


# --- what the database asks for ----------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """One broker login's market-data socket, as the database describes it."""

    connection_pk: int
    label: str
    url: str
    login: str


@dataclass(frozen=True)
class Target:
    """The stops of one (subaccount, symbol) position to manage, and the rules to apply."""

    subaccount_pk: int
    connection_pk: int
    symbol: str
    order_pks: tuple[int, ...]
    outcome_pk: int  # the newest outcome among the stops: its settings apply, its log is told
    break_even: BreakEven | None
    trailing: Trailing | None
    spec: ContractSpec = field(repr=False)


@dataclass(frozen=True)
class Targets:
    positions: dict[Key, Target]
    feeds: dict[int, Feed]  # connection pk -> its market-data socket
    problems: dict[int, str]  # outcome pk -> why its stops cannot be managed


def monitor_targets() -> Targets:
    """Working stops we placed whose settings have break-even or trailing, by position."""
    rows = (
        Order.objects.filter(
            role=Order.Role.STOP,
            state__in=(Order.State.WORKING, Order.State.PARTIALLY_FILLED),
            outcome__isnull=False,
            broker_order_id__isnull=False,
            subaccount__active=True,
        )
        .select_related(
            "outcome__signal",
            "outcome__trader_account__trader__strategy",
            "outcome__trader_account__trader__user",
            "subaccount__connection",
        )
        .order_by("id")
    )
    groups: dict[Key, list[Order]] = {}
    for row in rows:
        groups.setdefault((row.subaccount_id, row.symbol), []).append(row)
    targets: dict[Key, Target] = {}
    feeds: dict[int, Feed] = {}
    problems: dict[int, str] = {}
    for key, stops in groups.items():
        newest = max(stops, key=lambda row: row.outcome_id or 0)
        outcome = newest.outcome
        assert outcome is not None
        try:
            resolved = effective_settings(
                account=outcome.trader_account, alert=alert_from_signal(outcome.signal)
            )
            spec = parse_symbol(key[1]).spec
        except Exception as exc:  # a stored row we cannot read must not stop the others
            problems[outcome.pk] = (
                f"break-even/trailing cannot be applied: {type(exc).__name__}: {exc}"
            )
            continue
        if resolved.break_even is None and resolved.trailing is None:
            continue
        connection = newest.subaccount.connection
        targets[key] = Target(
            subaccount_pk=key[0],
            connection_pk=connection.pk,
            symbol=key[1],
            order_pks=tuple(row.pk for row in stops),
            outcome_pk=outcome.pk,
            break_even=resolved.break_even,
            trailing=resolved.trailing,
            spec=spec,
        )
        if connection.pk not in feeds:
            feeds[connection.pk] = feed_of(connection=connection)
    return Targets(positions=targets, feeds=feeds, problems=problems)


def feed_of(*, connection: BrokerConnection) -> Feed:
    """The market-data socket a connection's quotes come from."""
    return Feed(
        connection_pk=connection.pk,
        label=connection.label,
        url=md_url(connection=connection),
        login=connection_login_key(connection=connection),
    )


# --- one evaluation (a thread; the broker is the truth) ----------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """What the broker said and what was done about it."""

    net_pos: int = 0
    net_price: Decimal | None = None
    stop: Decimal | None = None  # the least protective working stop leg, after any move
    initial_stop: Decimal | None = None
    moved_to: Decimal | None = None
    failure: str = ""  # recorded (unless it repeats the last one); "" = none
    busy: bool = False  # the position's lock was held by someone else: nothing read


def _record(*, outcome_pk: int, line: str) -> None:
    """Append a line to the outcome's log (trading.outcome_log)."""
    outcome_log_append(outcome_pk=outcome_pk, line=line)


def _login_blocked(connection: BrokerConnection) -> str:
    """Why no login may be attempted for this connection now ("" = it may)."""
    if connection.status == BrokerConnection.Status.ERROR and not broker_token_usable(connection):
        return (
            f"connection '{connection.label}' is in error ({connection.last_error or 'no detail'})"
            ": test it again under Connections"
        )
    return ""


def _logged_in(connection: BrokerConnection, use: Callable[[BrokerConnection], T]) -> T:
    """``use(connection)`` (which may log in) unless logins are blocked for it; the broker's
    refusal is recorded on the connection, where its owner looks (D03)."""
    blocked = _login_blocked(connection)
    if blocked != "":
        raise BrokerError(blocked)
    try:
        return use(connection)
    except BrokerError as exc:
        connection_record_error(connection=connection, error=exc)
        raise


def _broker(connection: BrokerConnection) -> Broker:
    return _logged_in(connection, lambda c: broker_for(connection=c))


def _rule_name(*, target: Target, decide: Callable[..., Decimal | None], moved: Decimal) -> str:
    if target.break_even is not None and decide(trailing=None) == moved:
        return "break-even"
    return "trailing stop"


def position_evaluate(
    *,
    target: Target,
    last_price: Decimal,
    known_initial: dict[int, Decimal],
    last_failure: str,
) -> Evaluation:
    """Read the broker's position and stops for ``target``, move the stops if the rules say
    so, and record what happened. ``known_initial`` (order id -> first stop price) is a cache
    it fills. Raises nothing for a broker failure: the result says it."""
    rows = list(
        Order.objects.filter(
            pk__in=target.order_pks,
            state__in=(Order.State.WORKING, Order.State.PARTIALLY_FILLED),
        ).select_related("subaccount__connection")
    )
    if not rows:
        return Evaluation()
    subaccount: Subaccount = rows[0].subaccount
    where = f"{subaccount.name} {target.symbol}"
    try:
        broker = _broker(subaccount.connection)
    except BrokerError as exc:
        return _failed(target=target, where=where, last_failure=last_failure, text=str(exc))
    try:
        with position_lock(subaccount=subaccount, symbol=target.symbol, timeout=LOCK_WAIT_SECONDS):
            return _evaluate_locked(
                target=target,
                broker=broker,
                subaccount=subaccount,
                rows=rows,
                last_price=last_price,
                known_initial=known_initial,
                last_failure=last_failure,
            )
    except TimeoutError:
        return Evaluation(busy=True)
    except BrokerError as exc:
        return _failed(target=target, where=where, last_failure=last_failure, text=str(exc))
    except Exception as exc:  # never "unknown": the type and the words go to the log
        logger.exception("monitor: %s", where)
        text = f"{type(exc).__name__}: {exc}"
        return _failed(target=target, where=where, last_failure=last_failure, text=text)
    finally:
        broker.close()


def _failed(*, target: Target, where: str, last_failure: str, text: str) -> Evaluation:
    line = f"break-even/trailing could not check {where}: {text}"
    logger.warning("monitor: %s", line)
    if text != last_failure:
        _record(outcome_pk=target.outcome_pk, line=line)
    return Evaluation(failure=text)


def _evaluate_locked(
    *,
    target: Target,
    broker: Broker,
    subaccount: Subaccount,
    rows: list[Order],
    last_price: Decimal,
    known_initial: dict[int, Decimal],
    last_failure: str,
) -> Evaluation:
    account_id = subaccount.broker_account_id
    positions = [p for p in broker.positions(account_id=account_id) if p.symbol == target.symbol]
    net_pos = sum(p.net_pos for p in positions)
    net_price = next((p.net_price for p in positions if p.net_pos != 0), None)
    working = {
        o.order_id: o
        for o in broker.working_orders(account_id=account_id)
        if o.symbol == target.symbol
    }
    _settle_gone_rows(broker, account_id=account_id, rows=rows, working=working)
    if net_pos == 0 or net_price is None:
        return Evaluation(net_pos=0)  # flat: nothing to protect, nothing touched
    side_long = net_pos > 0
    closing_side = "Sell" if side_long else "Buy"
    legs: list[tuple[Order, WorkingOrder]] = []
    for row in rows:
        order = working.get(row.broker_order_id or 0)
        if (
            order is not None
            and order.order_type == OrderType.STOP.value
            and order.stop_price is not None
            and order.side.value == closing_side
        ):
            legs.append((row, order))
    if not legs:
        return Evaluation(net_pos=net_pos, net_price=net_price)
    stops = [order.stop_price for _, order in legs if order.stop_price is not None]
    current = min(stops) if side_long else max(stops)
    initials = []
    for _, order in legs:
        if order.order_id not in known_initial:
            first = broker.initial_stop_price(order_id=order.order_id)
            known_initial[order.order_id] = first if first is not None else current
        initials.append(known_initial[order.order_id])
    initial = min(initials) if side_long else max(initials)
    decide = functools.partial(
        stop_adjustment,
        side_long=side_long,
        net_price=net_price,
        current_stop=current,
        last_price=last_price,
        initial_stop=initial,
        break_even=target.break_even,
        trailing=target.trailing,
        spec=target.spec,
    )
    new = decide()
    state = Evaluation(net_pos=net_pos, net_price=net_price, stop=current, initial_stop=initial)
    if new is None:
        return state
    rule = _rule_name(target=target, decide=decide, moved=new)
    where = f"{subaccount.name} {target.symbol}"
    refused: list[str] = []
    moved_any = False
    for row, order in legs:
        assert order.stop_price is not None
        if (new <= order.stop_price) if side_long else (new >= order.stop_price):
            continue  # this leg is already there (or tighter): never loosened
        try:
            stop_modify(
                broker,
                row=row,
                order=order,
                stop_price=new,
                what=f"{rule}: moving the stop to {new}",
            )
        except BrokerError as exc:
            refused.append(f"{exc} (order {order.order_id})")
            continue
        moved_any = True
    if moved_any:
        line = (
            f"{rule}: stop of {where} moved {_shown(current, target.spec)} -> {new} "
            f"(last {_shown(last_price, target.spec)}, entry {_shown(net_price, target.spec)})"
        )
        logger.info("monitor: %s", line)
        _record(outcome_pk=target.outcome_pk, line=line)
    if refused:
        text = "; ".join(refused)
        line = f"{rule}: moving the stop of {where} to {new} failed: {text}"
        logger.warning("monitor: %s", line)
        if text != last_failure:
            _record(outcome_pk=target.outcome_pk, line=line)
        # The broker is read again before the next try, so the state here does not matter.
        return replace(state, moved_to=new if moved_any else None, failure=text)
    return replace(state, stop=new, moved_to=new)


def _shown(price: Decimal, spec: ContractSpec) -> Decimal:
    """A price as the contract writes it (18000.00, not 18000.0), when it is on the tick."""
    return round_to_tick(price, spec) if is_on_tick(price, spec) else price


def _settle_gone_rows(
    broker: Broker, *, account_id: int, rows: list[Order], working: dict[int, Any]
) -> None:
    """Rows the broker no longer has working take the state it says (filled, cancelled...)."""
    gone = [row for row in rows if row.broker_order_id not in working]
    if not gone:
        return
    statuses = broker.order_statuses(account_id=account_id)
    for row in gone:
        status = statuses.get(row.broker_order_id or 0)
        if status is None or status in WORKING_STATUSES:
            continue  # the broker does not say (yet): leave the row as it is
        order_observe(row, status=status, source=Source.READ)


def contract_id_resolve(*, connection_pk: int, symbol: str) -> int:
    """Tradovate's contract id of ``symbol`` (quotes name contracts by id)."""
    connection = BrokerConnection.objects.get(pk=connection_pk)
    broker = _broker(connection)
    try:
        return broker.contract(name=symbol).id
    finally:
        broker.close()


def md_token_for(*, connection_pk: int, refused: str | None = None) -> str:
    """The market-data token of a connection, for a (re)connect; a failure becomes a socket
    error (the stream backs off and tries again) and is recorded on the connection.

    ``refused``: the token the broker just refused at ``authorize`` (Tradovate revokes the
    token of a connection it closes for the quota). If it is still the stored one, the
    session is marked expired, so one fresh login (row-locked: one for all processes)
    replaces it with a validated token; a token stored meanwhile by another process is used."""
    connection = BrokerConnection.objects.filter(pk=connection_pk).first()
    if connection is None:
        raise SocketError(f"connection {connection_pk} no longer exists")
    if refused is not None and connection.has_token:
        stored = connection.md_access_token_encrypted or connection.access_token_encrypted
        if decrypt_str(stored) == refused:
            BrokerConnection.objects.filter(
                pk=connection.pk, access_token_encrypted=connection.access_token_encrypted
            ).update(token_expires_at=timezone.now())
            connection.refresh_from_db()
    try:
        return _logged_in(connection, lambda c: md_token_ensure(connection=c))
    except BrokerError as exc:
        raise SocketError(f"no market-data token for '{connection.label}': {exc}") from exc
