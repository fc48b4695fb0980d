"""Writes for accounts. Plain keyword-only functions; each says what it guarantees."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from django.contrib.auth.hashers import make_password
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


def _awaiting_confirmation(user: User) -> bool:
    """A sign-up whose address was never confirmed (not a Whop purchase awaiting its password,
    not an account staff switched off)."""
    from billing.models import Membership

    return (
        not user.is_active
        and user.last_login is None
        and user.has_usable_password()
        and not Membership.objects.filter(user=user).exists()
    )


def signup_request(*, email: str, password: str) -> None:
    """Sign up ``email``; the caller answers the same whatever happened here (no enumeration).

    A new address gets an inactive account with ``password`` and a link confirming the address
    (``signup_confirm``); an address whose sign-up was never confirmed gets the link again (its
    first password stays); an address with an account gets a note to its owner instead ("log
    in or reset your password"), and nothing changes. The password is hashed in every case, so
    the time taken does not tell the cases apart either. ``ValidationError`` for a weak
    password is the form's to raise, before this.
    """
    from billing.emails import signup_confirmation_send, signup_existing_send

    existing = User.objects.filter(email__iexact=email.strip()).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = user_create(email=email, password=password, is_active=False)
        except IntegrityError:  # the same address signed up at the same moment
            existing = User.objects.get(email__iexact=email.strip())
        else:
            signup_confirmation_send(user=user)
            return
    make_password(password)  # as long as the new-account path takes
    if _awaiting_confirmation(existing):
        signup_confirmation_send(user=existing)
    else:
        signup_existing_send(user=existing)


@transaction.atomic
def signup_confirm(*, user: User) -> User:
    """The address of a sign-up is confirmed: the account becomes active (the link that led
    here stops working: it is bound to the account's state)."""
    user.is_active = True
    user.save(update_fields=["is_active"])
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


def user_login_unlock(*, user: User) -> int:
    """Lift a log-in lock-out on ``user``'s account at once (support's "Unlock log-in", a
    completed password reset): its failed attempts are forgotten, whatever the address they
    came from. Returns how many attempt records went; 0 when nothing was locked."""
    from axes.utils import reset

    return int(reset(username=user.email.lower()))


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
