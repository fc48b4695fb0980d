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


@app.task(name="copytrade.sync_exits", acks_late=True, max_retries=0)
def sync_exits(group_pk: int, leader_symbol: str) -> int:
    """Queue ``copytrade``. The group's followers' copies of the leader's exits on
    ``leader_symbol`` brought in line (placed, changed, cancelled); idempotent."""
    from copytrade.exits import group_exits_sync

    return group_exits_sync(group_pk=group_pk, leader_symbol=leader_symbol)
