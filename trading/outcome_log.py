"""A signal outcome's running log: lines appended with their time, after the decision."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import F, Value
from django.db.models.functions import Concat

from trading.models import SignalOutcome


def outcome_log_append(*, outcome_pk: int | None, line: str) -> None:
    """Append ``[HH:MM:SS UTC] line`` to the outcome's reason, atomically (in one UPDATE, so
    it never overwrites another writer's line). Nothing when ``outcome_pk`` is None."""
    if outcome_pk is None:
        return
    stamp = datetime.now(UTC).strftime("%H:%M:%S UTC")
    SignalOutcome.objects.filter(pk=outcome_pk).update(
        reason=Concat(F("reason"), Value(f"\n[{stamp}] {line}"))
    )
