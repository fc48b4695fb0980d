from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from billing import checks  # noqa: F401  (registers the system checks)

        worker_ready.connect(_verify_whop_key_on_worker_start, weak=False)


def _verify_whop_key_on_worker_start(**_: Any) -> None:
    """D13: ask Whop whether WHOP_API_KEY works as soon as a worker is up (result: health)."""
    from billing.tasks import whop_api_key_verify

    whop_api_key_verify.delay()
