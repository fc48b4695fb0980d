"""Start-up checks: a truncated or malformed secret fails loudly, naming its variable (D13).

Django runs these on every management command (``migrate``, ``runserver``, ``check``) and the
ASGI/worker entry points call ``run_startup_checks`` so a bad deployment never starts quietly.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks

_PRINTABLE_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # no whitespace, no control characters
SECRET_KEY_MIN_LENGTH = 50
# Whop API keys and webhook secrets are long random strings; a shorter value is a cut-off paste.
WHOP_SECRET_MIN_LENGTH = 32


def fernet_key_problem(key: str) -> str | None:
    """Why ``key`` is not a usable Fernet key (44 url-safe base64 chars = 32 bytes), or None."""
    if len(key) != 44:
        return f"is {len(key)} characters long, a Fernet key has 44 (truncated or padded?)"
    try:
        raw = base64.b64decode(key.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return "is not url-safe base64"
    if len(raw) != 32:
        return f"decodes to {len(raw)} bytes, a Fernet key is 32"
    return None


def secret_problems(
    *,
    secret_key: str,
    secret_key_is_default: bool,
    encryption_keys: Sequence[str],
    encryption_keys_from_env: bool,
    whop_api_key: str,
    whop_webhook_secret: str,
    production: bool,
) -> list[checks.CheckMessage]:
    """Pure validation of the secrets' shape; each message names the environment variable."""
    found: list[checks.CheckMessage] = []
    if secret_key_is_default:
        if production:
            found.append(
                checks.Error(
                    "DJANGO_SECRET_KEY is not set: the development key cannot run production.",
                    hint="Generate one: python -c 'import secrets; print(secrets.token_urlsafe(64))'",
                    id="bracketeer.E001",
                )
            )
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH or not _PRINTABLE_TOKEN.match(secret_key):
        found.append(
            checks.Error(
                f"DJANGO_SECRET_KEY is {len(secret_key)} characters or contains whitespace; "
                f"it must be at least {SECRET_KEY_MIN_LENGTH} printable characters "
                "(a truncated value?).",
                id="bracketeer.E002",
            )
        )
    if encryption_keys_from_env:
        for index, key in enumerate(encryption_keys):
            problem = fernet_key_problem(key)
            if problem is not None:
                found.append(
                    checks.Error(
                        f"FIELD_ENCRYPTION_KEYS entry {index + 1} {problem}.",
                        hint="Generate one: python -c 'from cryptography.fernet import Fernet; "
                        "print(Fernet.generate_key().decode())'",
                        id="bracketeer.E003",
                    )
                )
    elif production:
        found.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is not set: broker credentials cannot be encrypted with "
                "a key derived from the development secret in production.",
                id="bracketeer.E004",
            )
        )
    for name, value in (
        ("WHOP_API_KEY", whop_api_key),
        ("WHOP_WEBHOOK_SECRET", whop_webhook_secret),
    ):
        if value == "":
            continue  # empty is allowed: billing is off in development
        if len(value) < WHOP_SECRET_MIN_LENGTH or not _PRINTABLE_TOKEN.match(value):
            found.append(
                checks.Error(
                    f"{name} is {len(value)} characters or contains whitespace; expected at "
                    f"least {WHOP_SECRET_MIN_LENGTH} printable characters (a truncated paste?).",
                    id="bracketeer.E005",
                )
            )
    return found


@checks.register(checks.Tags.security)
def check_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return secret_problems(
        secret_key=settings.SECRET_KEY,
        secret_key_is_default=settings.SECRET_KEY == settings.DEV_SECRET_KEY,
        encryption_keys=settings.FIELD_ENCRYPTION_KEYS,
        encryption_keys_from_env=settings.FIELD_ENCRYPTION_KEYS_FROM_ENV,
        whop_api_key=settings.WHOP_API_KEY,
        whop_webhook_secret=settings.WHOP_WEBHOOK_SECRET,
        production=not settings.DEBUG and settings.HTTPS,
    )


def database_problems(databases: dict[str, dict[str, Any]]) -> list[checks.CheckMessage]:
    """PostgreSQL is the only database (D36): any other engine is an error."""
    found: list[checks.CheckMessage] = []
    for alias, db in databases.items():
        if db["ENGINE"] != "django.db.backends.postgresql":
            found.append(
                checks.Error(
                    f"DATABASES[{alias!r}] uses {db['ENGINE']}; Bracketeer runs on PostgreSQL only.",
                    hint="Set DATABASE_URL=postgres://user@host:5432/bracketeer",
                    id="bracketeer.E006",
                )
            )
    return found


@checks.register(checks.Tags.database)
def check_postgresql_only(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return database_problems(settings.DATABASES)
