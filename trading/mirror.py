"""The broker's user stream applied to the database: orders, fills, positions, cash.

(Being built: issue 10. The signature is fixed; the body lands next.)
"""

from __future__ import annotations

from trading.brokers.tradovate.ws import StreamEvent


def mirror_apply(*, connection_pk: int, event: StreamEvent) -> None:
    """Apply one user-stream event of a broker login (``props``), or a full snapshot
    (``entity_type == "sync"``, which also reconciles), to the mirror. Idempotent: broker ids
    are the keys, so an event applied twice changes nothing. Runs in a thread of the streams
    process (blocking, Django ORM); events of one login must be applied in arrival order."""
    del connection_pk, event
