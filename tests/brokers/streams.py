"""Helpers to drive TradovateSocket against the simulator from synchronous tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from trading.brokers.base import TokenBundle
from trading.brokers.cooldown import login_key
from trading.brokers.tradovate.rest import Credentials, TradovateREST
from trading.brokers.tradovate.ws import ConnectGate, StreamEvent, TradovateSocket


def demo_token(
    rest_url: str, *, username: str = "demo", password: str = "demo-password"
) -> TokenBundle:
    rest = TradovateREST(rest_url=rest_url, login=login_key(environment="test", username=username))
    try:
        return rest.request_token(
            Credentials(
                username=username,
                password=password,
                app_id="tests",
                app_version="1",
                cid=None,
                sec="",
                device_id=str(uuid.uuid4()),
            )
        )
    finally:
        rest.close()


def make_socket(
    ws_url: str,
    token: TokenBundle,
    *,
    gate: ConnectGate | None = None,
    events: list[StreamEvent] | None = None,
    fresh_tokens_from: str | None = None,
    **options: Any,
) -> TradovateSocket:
    """``fresh_tokens_from`` (a REST url): log in anew for every connect, as the stream process
    does after Tradovate revokes a closed connection's token."""

    async def provide() -> str:
        if fresh_tokens_from is not None:
            return (await asyncio.to_thread(demo_token, fresh_tokens_from)).access_token
        return token.access_token

    async def collect(event: StreamEvent) -> None:
        if events is not None:
            events.append(event)

    return TradovateSocket(
        url=ws_url,
        token=provide,
        user_id=token.user_id,
        login=login_key(environment=f"simulator@{ws_url}", username=token.name or "demo"),
        gate=gate or ConnectGate(),
        on_event=collect,
        **options,
    )


def run_sockets(
    sockets: list[TradovateSocket],
    *,
    until: Callable[[], bool],
    timeout: float,
    during: Callable[[], None] | None = None,
) -> float:
    """Run the sockets until ``until()`` holds (or fail after ``timeout``); returns seconds taken.
    ``during`` is called once, in a thread, after the first sync (e.g. to trigger a fault)."""

    async def main() -> float:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run(stop)) for s in sockets]
        started = time.monotonic()
        fired = during is None
        try:
            while not until():
                if time.monotonic() - started > timeout:
                    errors = [s.stats.history[-3:] for s in sockets if s.stats.history][:3]
                    raise AssertionError(f"not reached within {timeout} s; recent errors: {errors}")
                if not fired and any(s.stats.syncs > 0 for s in sockets):
                    fired = True
                    assert during is not None
                    await asyncio.to_thread(during)
                await asyncio.sleep(0.05)
            return time.monotonic() - started
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)

    return asyncio.run(main())
