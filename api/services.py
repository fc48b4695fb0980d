"""Writes for API keys: made (the secret shown once), revoked, checked on each request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from api.models import ApiKey
from billing.limits import plan_feature_check

KEY_START = "bk_"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per key, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


class ApiKeyRefused(Exception):
    """The presented key does not authenticate; the message says why, to the caller."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *, user: User, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for ``user`` and return it with its secret, which is not stored anywhere
    (only its SHA-256 digest) and cannot be shown again. Needs a plan with API access
    (``PlanLimitError``); ``ValueError`` for an unknown scope or an expiry in the past."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"scope must be one of {ApiKey.Scope.values}, got {scope!r}")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    plan_feature_check(user=user, feature="api_access")
    prefix = KEY_START + secrets.token_hex(PREFIX_LENGTH // 2)
    while ApiKey.objects.filter(prefix=prefix).exists():  # astronomically rare: never reused
        prefix = KEY_START + secrets.token_hex(PREFIX_LENGTH // 2)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            user=user,
            name=name.strip()[:100],
            prefix=prefix,
            secret_hash=_digest(secret),
            scope=scope,
            expires_at=expires_at,
        )
    return key, secret


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """The key stops working at once (401 "revoked"); revoking twice keeps the first date."""
    if api_key.revoked_at is None:
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        api_key.refresh_from_db()
    return api_key


def api_key_authenticate(*, secret: str, now: datetime | None = None) -> ApiKey:
    """The live key whose secret is ``secret`` (compared in constant time), its user loaded;
    ``ApiKeyRefused`` saying why otherwise (unknown, revoked, expired, user inactive). Marks
    the key used at most once per ``TOUCH_EVERY``."""
    now = now or timezone.now()
    prefix, _, rest = secret.partition("_")[2].partition("_")
    key = (
        ApiKey.objects.select_related("user").filter(prefix=f"{KEY_START}{prefix}").first()
        if secret.startswith(KEY_START) and rest
        else None
    )
    # Compare even when there is no such key, so a miss takes the same time as a bad secret.
    expected = key.secret_hash if key is not None else _digest("no key")
    if not hmac.compare_digest(expected, _digest(secret)) or key is None:
        raise ApiKeyRefused("Invalid API key.")
    if key.revoked_at is not None:
        raise ApiKeyRefused("This API key was revoked. Create a new one on the API keys page.")
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRefused("This API key has expired. Create a new one on the API keys page.")
    if not key.user.is_active:
        raise ApiKeyRefused("The account of this API key is not active.")
    api_key_touch(api_key=key, now=now)
    return key


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use: one UPDATE per key per ``TOUCH_EVERY`` at most (the condition is checked by
    the database, so concurrent requests write once)."""
    if api_key.last_used_at is not None and now - api_key.last_used_at < TOUCH_EVERY:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    api_key.last_used_at = now
