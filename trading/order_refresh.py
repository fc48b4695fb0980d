"""Read the broker's state of a signal's working orders and bring their rows up to date.

Until a live mirror keeps Order rows current, a row written "working" stays so after the broker
filled or cancelled the order (a stop fills; its OCO take-profit is cancelled). The signal page
calls ``orders_refresh_from_broker`` when it is opened, so what it shows is what the broker
said a moment ago, and it says when that was, or why the broker could not be read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import BrokerConnection, User
from accounts.tenancy import tenant_queryset
from trading.brokers.base import WORKING_STATUSES, Broker, BrokerError
from trading.brokers.services import broker_for, connection_login_key
from trading.models import Order, Signal
from trading.order_states import Source, order_observe
from trading.stream_state import stream_states_read

logger = logging.getLogger(__name__)

REFRESH_TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did. ``read_at`` is set when the broker was read (for some accounts at
    least); ``errors`` holds, per connection that could not be read, its name and the broker's
    words. ``needed`` is False when the signal has no working order to ask about."""

    needed: bool
    read_at: datetime | None = None
    errors: tuple[str, ...] = ()
    changed: tuple[int, ...] = field(default_factory=tuple)  # pks of the rows moved
    streamed: bool = False  # every row is kept current by a live user stream: nothing read

    def read_at_text(self, zone: str) -> str:
        """``read_at`` to the second in the time zone ``zone`` (UTC if the name is unknown),
        the zone named: "12:01:03 (America/New_York)"; "" when the broker was not read."""
        if self.read_at is None:
            return ""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            tz, zone = ZoneInfo("UTC"), "UTC"
        return f"{self.read_at.astimezone(tz):%H:%M:%S} ({zone})"


@dataclass(frozen=True)
class _Read:
    statuses: dict[int, dict[int, str]]  # broker account id -> order id -> ordStatus
    errors: tuple[str, ...]


def _read_connection(
    connection: BrokerConnection, account_ids: set[int]
) -> dict[int, dict[int, str]]:
    broker: Broker = broker_for(connection=connection)
    try:
        return {a: broker.order_statuses(account_id=a) for a in sorted(account_ids)}
    finally:
        broker.close()


def _read_statuses(
    connections: dict[int, tuple[BrokerConnection, set[int]]],
) -> _Read:
    """Each connection's order statuses for the accounts asked; runs in its own thread."""
    statuses: dict[int, dict[int, str]] = {}
    errors: list[str] = []
    try:
        for connection, account_ids in connections.values():
            try:
                statuses.update(_read_connection(connection, account_ids))
            except BrokerError as exc:
                errors.append(f"{connection.label}: {exc}")
            except Exception as exc:  # the page must still open: say it, log the details
                logger.exception("order refresh: reading connection %s failed", connection.pk)
                errors.append(f"{connection.label}: the broker could not be read ({exc})")
    finally:
        db_connection.close()  # this thread's own database connection (token look-ups)
    return _Read(statuses=statuses, errors=tuple(errors))


def _streamed(connections: dict[int, BrokerConnection]) -> set[int]:
    """The connections whose login's user stream is connected now (its holder wrote so within
    a lease or two): the mirror keeps their rows current."""
    logins = {pk: connection_login_key(connection=c) for pk, c in connections.items()}
    states = stream_states_read(logins=sorted(set(logins.values())))
    fresh_after = time.time() - 2 * settings.STREAM_LEASE_SECONDS
    return {
        pk
        for pk, login in logins.items()
        if (state := states.get(login)) is not None
        and state.connected
        and state.progress.synced_at is not None
        and state.updated_at >= fresh_after
    }


def _settle(rows: Iterable[Order], statuses: dict[int, dict[int, str]]) -> list[int]:
    """Record what the broker says of each row it no longer has working (filled, cancelled,
    ...). A row someone else moved meanwhile takes the report only if it still can."""
    changed = []
    for row in rows:
        account = statuses.get(row.subaccount.broker_account_id)
        status = None if account is None else account.get(row.broker_order_id or 0)
        if status is None or status in WORKING_STATUSES:
            continue  # not read, or the broker does not say: leave the row as it is
        if order_observe(row, status=status, source=Source.READ):
            changed.append(row.pk)
    return changed


def orders_refresh_from_broker(
    *, signal: Signal, user: User, timeout: float = REFRESH_TIMEOUT_SECONDS
) -> RefreshResult:
    """Bring ``user``'s working Order rows of ``signal`` to the broker's state.

    Guarantees: only rows in state working with a broker id are touched, only by a legal
    transition (working -> filled or cancelled) and only when the broker reports the order
    ended; rows in any other state (sent, in doubt, ...) are left alone, and so are rows of
    a deleted (archived) connection, which has no login left. Never raises for a broker
    failure: the broker's words come back in ``errors``. Returns within about ``timeout``
    seconds; what was not read by then is reported as not read.
    """
    rows = (
        tenant_queryset(model=Order, user=user)
        .filter(Q(signal=signal) | Q(outcome__signal=signal))
        .filter(subaccount__connection__archived_at__isnull=True)
    )
    return _refresh(rows, timeout=timeout)


def orders_refresh_for_connection(
    *, connection: BrokerConnection, timeout: float = REFRESH_TIMEOUT_SECONDS
) -> RefreshResult:
    """The same for every working Order row on ``connection``'s accounts (run before its login
    is wiped, so its records end in the state the broker last reported)."""
    return _refresh(Order.objects.filter(subaccount__connection=connection), timeout=timeout)


def _refresh(rows_of: QuerySet[Order], *, timeout: float) -> RefreshResult:
    rows = list(
        rows_of.filter(state__in=Order.OPEN_STATES, broker_order_id__isnull=False)
        .select_related("subaccount__connection")
        .order_by("id")
    )
    if not rows:
        return RefreshResult(needed=False)
    connections: dict[int, tuple[BrokerConnection, set[int]]] = {}
    for row in rows:
        connection = row.subaccount.connection
        connections.setdefault(connection.pk, (connection, set()))[1].add(
            row.subaccount.broker_account_id
        )
    streamed = _streamed({pk: c for pk, (c, _) in connections.items()})
    connections = {pk: v for pk, v in connections.items() if pk not in streamed}
    rows = [row for row in rows if row.subaccount.connection_id not in streamed]
    if not connections:  # the user stream keeps these rows current: no broker call
        return RefreshResult(needed=False, streamed=True)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-refresh")
    try:
        future = pool.submit(_read_statuses, connections)
        try:
            read = future.result(timeout=timeout)
        except FutureTimeout:
            labels = ", ".join(sorted(c.label for c, _ in connections.values()))
            return RefreshResult(
                needed=True,
                errors=(f"{labels}: the broker did not answer within {timeout:g} s",),
            )
    finally:
        pool.shutdown(wait=False)  # a late answer finishes in the background, then closes
    changed = _settle(rows, read.statuses)
    if read.errors:
        logger.info("order refresh incomplete: %s", read.errors)
    return RefreshResult(
        needed=True,
        read_at=timezone.now() if read.statuses else None,
        errors=read.errors,
        changed=tuple(changed),
    )
