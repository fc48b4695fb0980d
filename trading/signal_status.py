"""A signal's status summarises its outcomes: never "Done" while an account failed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from trading.models import Signal, SignalOutcome

_FAILED = {SignalOutcome.Status.FAILED, SignalOutcome.Status.SAFETY_BLOCK}


def signal_status_of(outcome_statuses: list[str]) -> str:
    """done (every account done, or none to act on) / failed (every account failed) / partly
    failed / in doubt (an account waits on the broker's answer) / executing (one is pending)."""
    statuses = set(outcome_statuses)
    if SignalOutcome.Status.IN_DOUBT in statuses:
        return Signal.Status.IN_DOUBT
    if SignalOutcome.Status.PENDING in statuses:
        return Signal.Status.EXECUTING
    if not statuses or not statuses & _FAILED:
        return Signal.Status.DONE
    if statuses <= _FAILED:
        return Signal.Status.FAILED
    return Signal.Status.PARTLY_FAILED


def signal_status_summarise(*, signal_id: int, **extra: Any) -> str:
    """Store the signal's status from its outcomes (and ``completed_at`` once it is final).

    Under the signal's row lock: processes finishing chunks of one signal at once summarise one
    after the other, so the last to write has read every other's outcomes (never "executing"
    written over "done")."""
    with transaction.atomic():
        Signal.objects.select_for_update().filter(pk=signal_id).values_list("pk").first()
        statuses = list(
            SignalOutcome.objects.filter(signal_id=signal_id).values_list("status", flat=True)
        )
        status = signal_status_of(statuses)
        final = status in Signal.FINAL_STATUSES
        Signal.objects.filter(pk=signal_id).update(
            status=status, completed_at=timezone.now() if final else None, **extra
        )
    return status
