"""Listening to one user's live frames on the real Redis channel layer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from trading.live import user_group


class GroupListener:
    """A channel in one user's group on the real channel layer."""

    def __init__(self, user_id: int) -> None:
        self.layer = get_channel_layer()
        assert self.layer is not None
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(user_group(user_id), self.channel)

    def frames(self, *, wait: float = 1.0) -> list[dict[str, Any]]:
        """Every frame that arrives within ``wait`` seconds of the last one."""
        return [frame for _, frame in self.timed_frames(wait=wait)]

    def timed_frames(
        self, *, wait: float = 1.0, until: float | None = None
    ) -> list[tuple[float, dict[str, Any]]]:
        """(monotonic arrival time, frame) of every frame that arrives within ``wait`` seconds
        of the last one, and not after the monotonic time ``until``."""

        async def drain() -> list[tuple[float, dict[str, Any]]]:
            assert self.layer is not None
            got: list[tuple[float, dict[str, Any]]] = []
            while True:
                timeout = wait if until is None else min(wait, until - time.monotonic())
                if timeout <= 0:
                    return got
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
                except TimeoutError:
                    return got
                got.append((time.monotonic(), message["payload"]))

        return async_to_sync(drain)()

    def first(
        self, matches: Callable[[dict[str, Any]], bool], *, timeout: float, what: str
    ) -> dict[str, Any]:
        """The first frame (from now) that ``matches``; fails after ``timeout`` seconds."""

        async def wait_for_match() -> dict[str, Any] | None:
            assert self.layer is not None
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), left)
                except TimeoutError:
                    return None
                if matches(message["payload"]):
                    payload: dict[str, Any] = message["payload"]
                    return payload
            return None

        found = async_to_sync(wait_for_match)()
        if found is None:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        return found
