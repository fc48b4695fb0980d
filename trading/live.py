"""Sending UI updates to a user's open browser tabs (best effort, never required)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group(user_id: int) -> str:
    """The channel group of one user's open tabs (``trading.consumers.LiveConsumer``)."""
    return f"user.{user_id}"


def live_send(*, user_id: int, payload: dict[str, Any]) -> None:
    """One frame to the user's open tabs."""
    live_send_many(user_id=user_id, payloads=[payload])


def live_send_many(*, user_id: int, payloads: list[dict[str, Any]]) -> None:
    """Send several frames in order through one event loop and one Redis connection (each
    ``async_to_sync`` call from a plain thread starts a loop of its own and connects anew)."""
    layer = get_channel_layer()
    if layer is None or not payloads:
        return
    group = user_group(user_id)

    async def send_all() -> None:
        for payload in payloads:
            await layer.group_send(group, {"type": "live.event", "payload": payload})

    async_to_sync(send_all)()
