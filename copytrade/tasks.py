from __future__ import annotations

from config.celery import app


@app.task(name="copytrade.copy_fill", acks_late=True, max_retries=0)
def copy_fill(fill_pk: int) -> int:
    """Queue ``copytrade``. Copy one recorded leader fill to its groups' followers; idempotent
    (a copy event per group and fill, deterministic clOrdIds): safe to redeliver."""
    from copytrade.replication import fill_copy

    return len(fill_copy(fill_pk=fill_pk))


@app.task(name="copytrade.resume_stale_copies", max_retries=0)
def resume_stale_copies() -> int:
    """Beat, every 5 s: copies whose worker died (their lease lapsed) are run again."""
    from copytrade.replication import copy_events_without_worker

    stale = copy_events_without_worker()
    for fill_pk in stale:
        copy_fill.delay(fill_pk)
    return len(stale)
