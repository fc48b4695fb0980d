"""Writes for accounts. Plain keyword-only functions; each says what it guarantees."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import BrokerConnection, Subaccount, User
from trading.control import AccountExposure, exposure_read
from trading.order_refresh import orders_refresh_for_connection


@transaction.atomic
def user_create(*, email: str, password: str, is_active: bool = True) -> User:
    """Create a subscriber with a validated password; the e-mail is stored lower-case.

    Raises ``django.core.exceptions.ValidationError`` for a weak password and
    ``django.db.IntegrityError`` if the e-mail is taken (in any letter case).
    """
    user = User(email=User.objects.normalize_email(email).lower(), is_active=is_active)
    validate_password(password, user=user)
    user.set_password(password)
    user.save()
    return user


@dataclass(frozen=True)
class ConnectionOpenCheck:
    """What is open at the broker on a connection's active accounts, read at one moment."""

    exposures: tuple[AccountExposure, ...]

    @property
    def open(self) -> tuple[AccountExposure, ...]:
        """Accounts with an open position or a working order."""
        return tuple(e for e in self.exposures if e.positions or e.working_orders)

    @property
    def unreadable(self) -> tuple[AccountExposure, ...]:
        """Accounts the broker could not be asked about (``error`` holds its words)."""
        return tuple(e for e in self.exposures if e.error != "")

    @property
    def clear(self) -> bool:
        return not self.open and not self.unreadable


class ConnectionStillOpen(Exception):
    """The connection cannot be deleted yet: something is open, or the broker cannot say."""

    def __init__(self, check: ConnectionOpenCheck) -> None:
        self.check = check
        if check.open:
            names = ", ".join(e.subaccount.name for e in check.open)
            text = f"positions or working orders are open on {names}: close them first"
        else:
            names = ", ".join(f"{e.subaccount.name} ({e.error})" for e in check.unreadable)
            text = f"the broker could not be asked what is open on {names}"
        super().__init__(text)


def broker_connection_open_check(*, connection: BrokerConnection) -> ConnectionOpenCheck:
    """Ask the broker now what is open on each active account of ``connection``. Never raises
    for a broker failure: an account that cannot be read carries the broker's words."""
    subaccounts = list(
        Subaccount.objects.filter(connection=connection, active=True)
        .select_related("connection")
        .order_by("name", "id")
    )
    return ConnectionOpenCheck(exposures=tuple(exposure_read(subaccounts=subaccounts)))


def broker_connection_archive(
    *, connection: BrokerConnection, unreadable_confirmed: bool = False
) -> ConnectionOpenCheck:
    """What "delete a connection" does: history stays, the login goes.

    Guarantees: refuses (``ConnectionStillOpen``, nothing changed) while the broker reports an
    open position or a working order on any of its active accounts, and while it cannot be
    read unless the owner confirmed ``unreadable_confirmed`` (checked at the broker
    themselves). Otherwise, the rows of its orders still recorded as working are brought to the
    broker's state (``orders_refresh_for_connection``), then, in one transaction: the password, API secret and tokens are
    wiped, every account is deactivated (so nothing trades on it), and the connection is
    marked archived and disappears from the owner's lists. Outcomes and orders keep their
    account's name and number: no row is deleted. The same login may be added again.
    """
    check = broker_connection_open_check(connection=connection)
    if check.open or (check.unreadable and not unreadable_confirmed):
        raise ConnectionStillOpen(check)
    # Last chance to read the broker with this login: rows still "working" get its final word.
    orders_refresh_for_connection(connection=connection)
    with transaction.atomic():
        locked = BrokerConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.archived_at is not None:
            return check
        locked.archived_at = timezone.now()
        locked.credentials_encrypted = ""
        locked.access_token_encrypted = ""
        locked.md_access_token_encrypted = ""
        locked.token_expires_at = None
        locked.token_renewed_at = None
        locked.token_error = ""
        locked.save(
            update_fields=[
                "archived_at",
                "credentials_encrypted",
                "access_token_encrypted",
                "md_access_token_encrypted",
                "token_expires_at",
                "token_renewed_at",
                "token_error",
            ]
        )
        Subaccount.objects.filter(connection=locked).update(active=False)
    connection.refresh_from_db()
    return check


def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """Store the user's IANA time zone (``ValidationError`` for a name the system does not
    know). Pages show times in it from the next request; time windows are read in it."""
    if time_zone not in available_timezones():
        raise ValidationError(f"“{time_zone}” is not a time zone name.")
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


@transaction.atomic
def user_email_change(*, user: User, email: str) -> User:
    """Change the login e-mail, stored lower-case. Raises ``django.db.IntegrityError`` if
    another account has it in any letter case (the database's unique index decides)."""
    user.email = User.objects.normalize_email(email).lower()
    user.save(update_fields=["email"])
    return user


class LabelTaken(ValueError):
    """The user already has a connection in use with this label."""


def broker_connection_rename(*, connection: BrokerConnection, label: str) -> BrokerConnection:
    """Give the connection a new label (``LabelTaken`` if another connection in use of the
    same user has it; nothing else changes)."""
    connection.label = label.strip()
    try:
        with transaction.atomic():
            connection.save(update_fields=["label"])
    except IntegrityError:
        connection.refresh_from_db()
        raise LabelTaken("You already have a broker connection with this label.") from None
    return connection
