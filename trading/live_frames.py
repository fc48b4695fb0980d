"""What the browser's live channel is sent when the mirror changes (best effort).

(Being built: issue 10. The signature is fixed; the body lands next.)
"""

from __future__ import annotations

from collections.abc import Iterable


def mirror_changes_publish(
    *,
    user_id: int,
    order_pks: Iterable[int] = (),
    position_pks: Iterable[int] = (),
    fill_pks: Iterable[int] = (),
    outcome_pks: Iterable[int] = (),
) -> None:
    """Send the user's open tabs one frame per changed row. Called after the change has
    committed; never raises (Channels is at-most-once: a lost frame is healed by the next
    snapshot)."""
    del user_id, order_pks, position_pks, fill_pks, outcome_pks
