"""One writer per position (DESIGN.md §5 rule 3): a PostgreSQL advisory lock on (trading
account, symbol), taken by signals, break-even/trailing, close-all and support's flatten."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import BooleanField, Func, Value

from accounts.models import Subaccount


def _lock_key(subaccount_id: int, symbol: str) -> int:
    digest = hashlib.sha256(f"{subaccount_id}:{symbol}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def position_lock(*, subaccount: Subaccount, symbol: str, timeout: float = 30.0) -> Iterator[None]:
    """A PostgreSQL session advisory lock on (subaccount, symbol), taken through the ORM. It is
    held by this thread's connection; a killed process's lock ends with its connection."""
    key = _lock_key(subaccount.pk, symbol)
    rows = Subaccount.objects.filter(pk=subaccount.pk)
    deadline = time.monotonic() + timeout
    while True:
        got = (
            rows.annotate(
                got=Func(Value(key), function="pg_try_advisory_lock", output_field=BooleanField())
            )
            .values_list("got", flat=True)
            .first()
        )
        if got:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{subaccount.name} {symbol} is busy with another signal for {timeout:.0f} s"
            )
        time.sleep(0.02)
    try:
        yield
    finally:
        rows.annotate(
            done=Func(Value(key), function="pg_advisory_unlock", output_field=BooleanField())
        ).values_list("done", flat=True).first()
