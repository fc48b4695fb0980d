"""Writes for accounts. Plain keyword-only functions; each says what it guarantees."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
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
