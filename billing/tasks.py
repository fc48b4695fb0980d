"""Celery tasks for billing: thin wrappers that take ids and call one service each.

All run on the ``default`` queue (``task_default_queue``; Celery 5.7 deprecates the per-task
``queue`` attribute).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing import emails, membership_events

EMAIL_MAX_RETRIES = 5
EMAIL_BACKOFF_SECONDS = 30  # 30 s, 60 s, 120 s, 240 s, 300 s (capped): about 12 minutes


@shared_task(
    bind=True,
    name="billing.email_delivery_send",
    acks_late=True,
    max_retries=EMAIL_MAX_RETRIES,
)
def email_delivery_send(self: Any, delivery_id: int) -> bool:
    """Send one e-mail; a failure is recorded and retried with backoff, then marked failed."""
    final = self.request.retries >= EMAIL_MAX_RETRIES
    sent = emails.email_delivery_attempt(delivery_id=delivery_id, final=final)
    if not sent and not final:
        countdown = min(EMAIL_BACKOFF_SECONDS * 2**self.request.retries, 300)
        raise self.retry(countdown=countdown)
    return sent


@shared_task(
    name="billing.membership_sync",
    acks_late=True,
    max_retries=0,  # the next beat run is the retry; a run records its own failure
)
def membership_sync(trigger: str = "beat") -> int:
    return membership_events.membership_sync(trigger=trigger).pk


@shared_task(name="billing.whop_api_key_verify", max_retries=0)
def whop_api_key_verify() -> bool:
    return bool(membership_events.whop_api_key_verify()["ok"])
