"""Reads for the streams process: which broker logins need a user stream."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from accounts.models import BrokerConnection
from trading.brokers.services import connection_endpoints, connection_login_key
from trading.mirror_signals import stream_accounts_wanted


@dataclass(frozen=True)
class StreamLogin:
    """One broker login to stream, and the connections that use it (usually one; two when the
    same login was added twice). Its stream's events are applied to each of them."""

    login: str  # `connection_login_key`: the same for every connection of this login
    connection_pks: tuple[int, ...]  # ascending; the first one's session opens the stream
    url: str  # the user WebSocket

    @property
    def connection_pk(self) -> int:
        return self.connection_pks[0]


def stream_logins_wanted() -> list[StreamLogin]:
    """Every broker login with at least one enabled trader account on an active trading
    account of a connection in use (not archived), once each, ordered by login key.

    Other apps add accounts through the ``stream_accounts_wanted`` signal (copy trading: the
    leaders and followers of enabled groups)."""
    others: set[int] = set()
    for _, pks in stream_accounts_wanted.send(sender=BrokerConnection):
        others.update(int(pk) for pk in pks or ())
    connections = (
        BrokerConnection.objects.filter(archived_at__isnull=True, subaccounts__active=True)
        .filter(
            Q(subaccounts__trader_accounts__enabled=True) | Q(subaccounts__pk__in=sorted(others))
        )
        .distinct()
        .order_by("pk")
    )
    grouped: dict[str, list[BrokerConnection]] = {}
    for connection in connections:
        grouped.setdefault(connection_login_key(connection=connection), []).append(connection)
    return [
        StreamLogin(
            login=login,
            connection_pks=tuple(c.pk for c in members),
            url=connection_endpoints(connection=members[0]).ws_url,
        )
        for login, members in sorted(grouped.items())
    ]
