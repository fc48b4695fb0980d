"""E-mail backends that fail like a provider outage (for D24 tests)."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends.locmem import EmailBackend as LocMemBackend

FAILURES_LEFT = {"n": 0}


class AlwaysFailingBackend(LocMemBackend):
    def send_messages(self, messages: Any) -> int:
        raise ConnectionError("Brevo API: 503 Service Unavailable")


class FlakyBackend(LocMemBackend):
    """Fails ``FAILURES_LEFT["n"]`` times, then delivers to the locmem outbox."""

    def send_messages(self, messages: Any) -> int:
        if FAILURES_LEFT["n"] > 0:
            FAILURES_LEFT["n"] -= 1
            raise ConnectionError("Brevo API: 502 Bad Gateway")
        return super().send_messages(messages)
