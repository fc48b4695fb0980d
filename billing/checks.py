"""Start-up checks for billing's own settings (D13, D24): a bad e-mail set-up fails loudly."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

BREVO_BACKEND = "anymail.backends.brevo.EmailBackend"
BREVO_KEY_PREFIX = "xkeysib-"
BREVO_KEY_MIN_LENGTH = 40


def email_problems(*, backend: str, brevo_api_key: str) -> list[checks.CheckMessage]:
    """Pure: what is wrong with the e-mail configuration, naming the variable."""
    if backend != BREVO_BACKEND:
        return []
    if brevo_api_key == "":
        return [
            checks.Error(
                "DJANGO_EMAIL_BACKEND is Brevo but BREVO_API_KEY is not set: no e-mail would go.",
                id="bracketeer.E010",
            )
        ]
    if not brevo_api_key.startswith(BREVO_KEY_PREFIX) or len(brevo_api_key) < BREVO_KEY_MIN_LENGTH:
        return [
            checks.Error(
                f"BREVO_API_KEY is {len(brevo_api_key)} characters; a Brevo API key starts with "
                f"{BREVO_KEY_PREFIX!r} and is at least {BREVO_KEY_MIN_LENGTH} (a truncated paste?).",
                id="bracketeer.E011",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_email(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return email_problems(
        backend=settings.EMAIL_BACKEND, brevo_api_key=settings.ANYMAIL.get("BREVO_API_KEY", "")
    )
