from __future__ import annotations

from config.celery import app
from trading.brokers.services import broker_tokens_renew_due


@app.task(name="trading.renew_broker_tokens", max_retries=0)
def renew_broker_tokens() -> int:
    """Beat, every minute: renew tokens that expire within 15 minutes (D26)."""
    return broker_tokens_renew_due()
