"""A follower's sync state (in sync / drifted / disarmed, with why): written only here."""

from __future__ import annotations

from django.utils import timezone

from copytrade.models import Follower


def follower_mark(follower: Follower, state: str, reason: str) -> None:
    """Record a follower's sync state (a disarmed follower stays disarmed until re-armed)."""
    Follower.objects.filter(pk=follower.pk).exclude(sync_state=Follower.SyncState.DISARMED).exclude(
        sync_state=state, sync_reason=reason
    ).update(sync_state=state, sync_reason=reason, sync_changed_at=timezone.now())
