"""Run our own system checks when a long-running process starts (web, worker, beat).

``manage.py`` commands run Django's checks by themselves; an ASGI server or a Celery worker
does not, so a truncated secret would otherwise surface only at the first failing call (D13).
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def run_startup_checks() -> None:
    """Raise ImproperlyConfigured naming every failed Bracketeer check, or return quietly."""
    errors = [
        message
        for message in checks.run_checks(tags=[checks.Tags.security, checks.Tags.database])
        if message.is_serious() and str(message.id or "").startswith("bracketeer.")
    ]
    if errors:
        lines = [f"{m.id}: {m.msg}" + (f" ({m.hint})" if m.hint else "") for m in errors]
        raise ImproperlyConfigured("refusing to start:\n  " + "\n  ".join(lines))
