"""Broker connections: credentials, tokens, and the broker object trading code uses.

Guarantees: credentials and tokens are stored encrypted; a token is replaced only by a
validated new one (D26); every failure is recorded on the connection in the broker's words
and never contains a secret; a connection without credentials yields an error naming it (D03).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.crypto import decrypt_str, encrypt_str
from accounts.models import BrokerConnection, Subaccount, User
from billing.limits import broker_accounts_limit_check
from trading.brokers.base import Broker, BrokerAuthError, BrokerError, TokenBundle
from trading.brokers.cooldown import login_key
from trading.brokers.tradovate.broker import TradovateBroker
from trading.brokers.tradovate.rest import Credentials, TradovateREST

logger = logging.getLogger(__name__)

TRADOVATE_URLS = {
    BrokerConnection.Broker.TRADOVATE_DEMO: (
        "https://demo.tradovateapi.com/v1",
        "wss://demo.tradovateapi.com/v1/websocket",
    ),
    BrokerConnection.Broker.TRADOVATE_LIVE: (
        "https://live.tradovateapi.com/v1",
        "wss://live.tradovateapi.com/v1/websocket",
    ),
}


@dataclass(frozen=True)
class Endpoints:
    rest_url: str
    ws_url: str


class ConnectionNotReady(BrokerError):
    """The connection cannot be used as it is (no credentials, undecryptable secrets)."""


def connection_endpoints(*, connection: BrokerConnection) -> Endpoints:
    if connection.broker == BrokerConnection.Broker.SIMULATOR:
        base = settings.SIMULATOR_URL
        ws_base = "ws" + base.removeprefix("http")
        return Endpoints(rest_url=f"{base}/v1", ws_url=f"{ws_base}/v1/websocket")
    rest_url, ws_url = TRADOVATE_URLS[BrokerConnection.Broker(connection.broker)]
    return Endpoints(rest_url=rest_url, ws_url=ws_url)


def connection_login_key(*, connection: BrokerConnection) -> str:
    """The shared-cooldown key: one per (environment, user name), across all processes."""
    environment = connection.broker
    if connection.broker == BrokerConnection.Broker.SIMULATOR:
        environment = f"simulator@{settings.SIMULATOR_URL}"
    return login_key(environment=environment, username=connection.username)


@transaction.atomic
def broker_connection_create(
    *,
    user: User,
    label: str,
    broker: str,
    username: str,
    password: str,
    cid: int | None = None,
    sec: str = "",
) -> BrokerConnection:
    """Store a new broker login with its secrets encrypted. Nothing is sent to the broker."""
    connection = BrokerConnection(
        user=user, label=label.strip(), broker=broker, username=username.strip()
    )
    connection.credentials_encrypted = encrypt_str(
        json.dumps({"password": password, "cid": cid, "sec": sec})
    )
    connection.full_clean()
    connection.save()
    return connection


def connection_credentials(*, connection: BrokerConnection) -> Credentials:
    if not connection.has_credentials or connection.username == "":
        raise ConnectionNotReady(
            f"Connection '{connection.label}' has no saved login: edit it and enter the "
            "user name and password.",
        )
    secret = json.loads(decrypt_str(connection.credentials_encrypted))
    return Credentials(
        username=connection.username,
        password=str(secret["password"]),
        app_id=settings.TRADOVATE_APP_ID,
        app_version=settings.TRADOVATE_APP_VERSION,
        cid=secret.get("cid"),
        sec=str(secret.get("sec") or ""),
        device_id=str(connection.device_id),
    )


def _rest(*, connection: BrokerConnection, access_token: str | None = None) -> TradovateREST:
    return TradovateREST(
        rest_url=connection_endpoints(connection=connection).rest_url,
        login=connection_login_key(connection=connection),
        access_token=access_token,
    )


def _store_token(*, connection: BrokerConnection, token: TokenBundle) -> None:
    connection.access_token_encrypted = encrypt_str(token.access_token)
    connection.md_access_token_encrypted = encrypt_str(token.md_access_token)
    connection.token_expires_at = token.expires_at
    connection.token_renewed_at = timezone.now()
    connection.broker_user_id = token.user_id
    connection.token_error = ""
    connection.save(
        update_fields=[
            "access_token_encrypted",
            "md_access_token_encrypted",
            "token_expires_at",
            "token_renewed_at",
            "broker_user_id",
            "token_error",
        ]
    )


def connection_record_error(*, connection: BrokerConnection, error: Exception) -> None:
    """Put what failed, in the broker's words, where the owner and support can read it."""
    text = str(error) if isinstance(error, BrokerError) else f"{type(error).__name__}: {error}"
    connection.last_error = text
    connection.last_error_at = timezone.now()
    fields = ["last_error", "last_error_at"]
    if isinstance(error, (BrokerAuthError, ConnectionNotReady)):
        connection.status = BrokerConnection.Status.ERROR
        fields.append("status")
    connection.save(update_fields=fields)


def broker_token_usable(connection: BrokerConnection) -> bool:
    """True when ``broker_token_ensure`` would use the stored token, not log in again."""
    return (
        connection.has_token
        and connection.token_expires_at is not None
        and connection.token_expires_at > timezone.now() + timedelta(seconds=30)
    )


def broker_token_ensure(*, connection: BrokerConnection) -> str:
    """A usable access token: the stored one, else a fresh login (token requests are scarce:
    about 5 an hour). Many threads or processes needing a token for one login at once make
    one request: the connection row is locked, and whoever waited reuses the new token."""
    if broker_token_usable(connection):
        return decrypt_str(connection.access_token_encrypted)
    with transaction.atomic():
        locked = BrokerConnection.objects.select_for_update().get(pk=connection.pk)
        if broker_token_usable(locked):
            _copy_token(source=locked, target=connection)
            return decrypt_str(locked.access_token_encrypted)
        credentials = connection_credentials(connection=locked)
        rest = _rest(connection=locked)
        try:
            token = rest.request_token(credentials)
        finally:
            rest.close()
        _store_token(connection=locked, token=token)
    _copy_token(source=locked, target=connection)
    return token.access_token


def _copy_token(*, source: BrokerConnection, target: BrokerConnection) -> None:
    for name in (
        "access_token_encrypted",
        "md_access_token_encrypted",
        "token_expires_at",
        "token_renewed_at",
        "broker_user_id",
        "token_error",
    ):
        setattr(target, name, getattr(source, name))


def broker_token_renew(*, connection: BrokerConnection, force: bool = False) -> bool:
    """Renew the token if it expires soon; True when a new token was stored.

    A failed renewal keeps the old token (it may still be valid) and records the broker's
    words on ``token_error``; it never stores anything that is not a complete token (D26).
    """
    if not connection.has_token:
        return False
    assert connection.token_expires_at is not None
    remaining = (connection.token_expires_at - timezone.now()).total_seconds()
    if not force and remaining > settings.TRADOVATE_RENEW_BEFORE_SECONDS:
        return False
    if remaining <= 0:
        broker_token_ensure(connection=connection)  # expired: only a new login helps
        return True
    rest = _rest(connection=connection, access_token=decrypt_str(connection.access_token_encrypted))
    try:
        assert connection.broker_user_id is not None
        token = rest.renew_token(user_id=connection.broker_user_id)
    except BrokerError as exc:
        connection.token_error = str(exc)
        connection.save(update_fields=["token_error"])
        logger.warning("token renewal failed for connection %s: %s", connection.pk, exc)
        return False
    finally:
        rest.close()
    _store_token(connection=connection, token=token)
    return True


def broker_for(*, connection: BrokerConnection) -> Broker:
    """The broker object for trading code, with a valid session. Raises a BrokerError naming
    the connection when it cannot be used (D03)."""
    token = broker_token_ensure(connection=connection)
    return TradovateBroker(_rest(connection=connection, access_token=token))


def broker_connection_test(*, connection: BrokerConnection) -> list[Subaccount]:
    """Log in, list the login's trading accounts, store them; record the outcome either way.

    New accounts count against the plan's broker-account limit (``PlanLimitError``)."""
    try:
        broker = broker_for(connection=connection)
        try:
            accounts = broker.accounts()
        finally:
            broker.close()
    except BrokerError as exc:
        connection_record_error(connection=connection, error=exc)
        if not isinstance(exc, (BrokerAuthError, ConnectionNotReady)):
            connection.status = BrokerConnection.Status.ERROR
            connection.save(update_fields=["status"])
        raise
    # The login worked and the accounts were listed: the connection is good, whether or not
    # the plan lets us add its accounts below (a plan limit is not a connection error).
    connection.status = BrokerConnection.Status.CONNECTED
    connection.last_error = ""
    connection.save(update_fields=["status", "last_error"])
    with transaction.atomic():
        known = set(
            Subaccount.objects.filter(connection=connection, active=True).values_list(
                "broker_account_id", flat=True
            )
        )
        adding = len([a for a in accounts if a.active and a.id not in known])
        if adding > 0:
            # Raises PlanLimitError naming the limit and how to raise it; nothing is stored.
            broker_accounts_limit_check(user=connection.user, adding=adding)
        seen = []
        for account in accounts:
            sub, _ = Subaccount.objects.update_or_create(
                connection=connection,
                broker_account_id=account.id,
                defaults={"name": account.name, "active": account.active},
            )
            seen.append(sub.pk)
        Subaccount.objects.filter(connection=connection).exclude(pk__in=seen).update(active=False)
    return list(Subaccount.objects.filter(connection=connection, pk__in=seen))


def broker_tokens_renew_due() -> int:
    """Beat: renew every token that expires within the renewal window. Returns how many."""
    soon = timezone.now() + timedelta(seconds=settings.TRADOVATE_RENEW_BEFORE_SECONDS)
    renewed = 0
    for pk in BrokerConnection.objects.filter(token_expires_at__lte=soon).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            connection = (
                BrokerConnection.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            )
            if connection is None:
                continue  # another process is renewing it right now
            try:
                renewed += broker_token_renew(connection=connection)
            except BrokerError as exc:
                connection_record_error(connection=connection, error=exc)
    return renewed
