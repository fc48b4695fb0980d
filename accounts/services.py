"""Writes for accounts. Plain keyword-only functions; each says what it guarantees."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User


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
