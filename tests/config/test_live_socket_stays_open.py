"""``/ws/live/`` stays open: a real uvicorn on ``config.asgi`` and the real Redis channel layer.

Issue 10 §4: the socket dropped every ~5 s (uvicorn logged ``redis.exceptions.TimeoutError:
Timeout reading from 127.0.0.1:6379``, the browser saw 1006). channels_redis 4.3 waits for a
message with ``BZPOPMIN <channel> 5`` (``RedisChannelLayer.brpop_timeout``); redis-py 8 reads
every answer within ``socket_timeout``, whose default became 5 s. The empty answer of a quiet
5-s wait arrives just after the read deadline, the read raises, and the consumer dies with it.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import websockets
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client
from websockets.typing import Origin

from tests.factories import UserFactory
from tests.processes import web_running
from trading.live import live_send

pytestmark = pytest.mark.django_db(transaction=True)

OPEN_SECONDS = 30


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_channel_layer_reads_outlast_its_blocking_wait() -> None:
    """The configuration itself: every Redis read of the layer may take longer than its
    blocking wait (a read deadline equal to the wait is the bug)."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    for host in layer["CONFIG"]["hosts"]:
        timeout = host["socket_timeout"]
        assert timeout is None or timeout > RedisChannelLayer.brpop_timeout + 1


def test_a_logged_in_socket_stays_open_30_s_and_still_receives() -> None:
    user = UserFactory.create()
    cookie = session_cookie(user)
    with web_running(log_name="web-live-open") as (base, log_path):
        url = base.replace("http://", "ws://") + "/ws/live/"

        async def scenario() -> tuple[list[dict[str, Any]], float]:
            async with websockets.connect(
                url, origin=Origin(base), additional_headers={"Cookie": cookie}, open_timeout=10
            ) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                frames = [first]
                started = time.monotonic()
                try:
                    # Nothing is sent for 30 s: the socket must simply stay open.
                    while time.monotonic() - started < OPEN_SECONDS:
                        left = OPEN_SECONDS - (time.monotonic() - started)
                        try:
                            frames.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
                        except TimeoutError:
                            break
                except websockets.ConnectionClosed as closed:
                    pytest.fail(
                        f"/ws/live/ closed after {time.monotonic() - started:.1f} s "
                        f"(code {closed.rcvd.code if closed.rcvd else 1006}); uvicorn said:\n"
                        + log_path.read_text(errors="replace")[-3000:]
                    )
                open_for = time.monotonic() - started
                # A frame sent through the channel layer (another process) still arrives.
                await asyncio.to_thread(
                    live_send, user_id=user.pk, payload={"kind": "probe", "n": 1}
                )
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))
                return frames, open_for

        frames, open_for = asyncio.run(scenario())
    log = log_path.read_text(errors="replace")
    assert open_for >= OPEN_SECONDS - 0.5
    assert frames[-1] == {"type": "event", "payload": {"kind": "probe", "n": 1}}
    assert "TimeoutError" not in log, log[-3000:]
