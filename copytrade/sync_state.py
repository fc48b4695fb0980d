"""A follower's sync state (in sync / drifted / disarmed, with why): written only here."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from copytrade.models import Follower


def follower_mark(follower: Follower, state: str, reason: str) -> None:
    """Record a follower's sync state (a disarmed follower stays disarmed until re-armed)."""
    followers_mark([follower.pk], state, reason)


def followers_mark(follower_ids: Iterable[int], state: str, reason: str) -> None:
    """`follower_mark` for many followers ending in the same state for the same reason, in one
    update."""
    Follower.objects.filter(pk__in=list(follower_ids)).exclude(
        sync_state=Follower.SyncState.DISARMED
    ).exclude(sync_state=state, sync_reason=reason).update(
        sync_state=state, sync_reason=reason, sync_changed_at=timezone.now()
    )
