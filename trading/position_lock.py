"""One writer per position (DESIGN.md §5 rule 3): a PostgreSQL advisory lock on (trading
account, symbol), taken by signals, break-even/trailing, close-all and support's flatten."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.postgres.fields import ArrayField
from django.db.models import BigIntegerField, BooleanField, Func, Value

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


def position_locks_try(*, positions: list[tuple[int, str]]) -> list[bool]:
    """Try the locks of many (subaccount id, symbol) at once, in one statement on this thread's
    connection, without waiting: for each, whether it is now held here. A fan-out takes its
    accounts' locks this way and leaves a busy one to the per-account path, which waits."""
    return _each_key("pg_try_advisory_lock", positions)


def position_locks_release(*, positions: list[tuple[int, str]]) -> None:
    """Release locks `position_locks_try` took (on this thread's connection), in one statement."""
    _each_key("pg_advisory_unlock", positions)


def _each_key(function: str, positions: list[tuple[int, str]]) -> list[bool]:
    """``function`` applied to each position's lock key, in order, in one statement (the keys
    unnested from one array, selected on one row of the subaccounts table; through the ORM)."""
    if not positions:
        return []
    keys = Value(
        [_lock_key(subaccount_id, symbol) for subaccount_id, symbol in positions],
        output_field=ArrayField(BigIntegerField()),
    )
    each = Func(Func(keys, function="unnest"), function=function, output_field=BooleanField())
    rows = Subaccount.objects.filter(pk=positions[0][0]).annotate(done=each)
    return list(rows.values_list("done", flat=True))
