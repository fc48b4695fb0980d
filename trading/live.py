"""Sending UI updates to a user's open browser tabs (best effort, never required)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group(user_id: int) -> str:
    """The channel group of one user's open tabs (``trading.consumers.LiveConsumer``)."""
    return f"user.{user_id}"


def live_send(*, user_id: int, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(user_group(user_id), {"type": "live.event", "payload": payload})
