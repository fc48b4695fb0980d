"""The browser's live channel: one socket per tab, joined to the group of its user.

On connect the tab gets a snapshot of the user's accounts (``trading.selectors.live_snapshot``),
then every change the mirror publishes to the user's group (``trading.live_frames``). A
reconnect gets a fresh snapshot, which heals any frame lost meanwhile.

Channels is at-most-once: it carries UI updates only. Anything that must happen goes through
Celery or the database (DESIGN.md §2).
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from trading.live import user_group
from trading.selectors import live_snapshot

logger = logging.getLogger(__name__)

# Close code for "authentication required" in the private 4000-4999 range.
CLOSE_UNAUTHENTICATED = 4401


class LiveConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accept refuses the handshake (HTTP 403 to the browser).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        # Joined before the snapshot is read: a change committed meanwhile arrives after it.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await _snapshot(user))

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_event(self, event: dict[str, Any]) -> None:
        """Group messages ``{"type": "live.event", "payload": {...}}`` go to the browser as-is."""
        await self.send_json({"type": "event", "payload": event.get("payload")})


@database_sync_to_async
def _snapshot(user: Any) -> dict[str, Any]:
    try:
        snapshot = live_snapshot(user=user)
    except Exception as exc:
        # The socket stays useful (changes still arrive); the page says what is missing.
        logger.exception("live snapshot of user %s failed", user.pk)
        error = (
            f"Your accounts could not be read just now ({type(exc).__name__}); changes still "
            "arrive. Reload the page to try again."
        )
        return {"type": "snapshot", "user": user.pk, "accounts": None, "error": error}
    return {**snapshot, "user": user.pk}
