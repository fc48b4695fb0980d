"""Activation links: signed, valid 72 hours, usable once (any change to the password or the
active flag after the link was made invalidates it)."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

ACTIVATION_MAX_AGE = timedelta(hours=72)
_SALT = "billing.activation"


class ActivationLinkInvalid(Exception):
    """The link is expired, tampered with, or already used; the message says which."""


def _state(user: User) -> str:
    return salted_hmac(_SALT, f"{user.pk}|{user.password}|{user.is_active}").hexdigest()[:24]


def activation_token_make(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=_SALT, compress=True)


def activation_token_user(*, token: str) -> User:
    """The user the link belongs to, or ``ActivationLinkInvalid`` saying why not."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=ACTIVATION_MAX_AGE)
    except signing.SignatureExpired:
        raise ActivationLinkInvalid(
            "This activation link has expired (links are valid for 72 hours)."
        ) from None
    except signing.BadSignature:
        raise ActivationLinkInvalid("This activation link is not valid.") from None
    if not isinstance(data, dict):
        raise ActivationLinkInvalid("This activation link is not valid.")
    user_id = data.get("u")
    if not isinstance(user_id, int):
        raise ActivationLinkInvalid("This activation link is not valid.")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ActivationLinkInvalid("This activation link is not valid.")
    if not constant_time_compare(str(data.get("s", "")), _state(user)):
        raise ActivationLinkInvalid("This activation link has already been used.")
    return user
