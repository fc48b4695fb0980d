"""The browser's live socket at /ws/live/, through the real ASGI stack and the Redis layer."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.factories import UserFactory
from trading.live import user_group

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def _session_cookie(user: object) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def test_anonymous_connection_is_refused() -> None:
    async def scenario() -> tuple[bool, object]:
        communicator = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    connected, code = asyncio.run(scenario())
    assert connected is False
    assert code == 4401


def test_foreign_origin_is_refused_even_when_logged_in() -> None:
    cookie = _session_cookie(UserFactory.create())

    async def scenario() -> bool:
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[(b"origin", b"https://evil.example"), cookie]
        )
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return bool(connected)

    assert asyncio.run(scenario()) is False


def test_logged_in_user_receives_only_their_own_group_messages() -> None:
    alice, bob = UserFactory.create(), UserFactory.create()
    alice_cookie = _session_cookie(alice)

    async def scenario() -> tuple[dict[str, object], dict[str, object], bool]:
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[ORIGIN, alice_cookie]
        )
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        layer = get_channel_layer()
        assert layer is not None
        await layer.group_send(
            user_group(bob.pk), {"type": "live.event", "payload": {"for": "bob"}}
        )
        await layer.group_send(
            user_group(alice.pk), {"type": "live.event", "payload": {"position": "MESZ6 +2"}}
        )
        event = await communicator.receive_json_from(timeout=5)
        nothing_else = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return hello, event, nothing_else

    hello, event, nothing_else = asyncio.run(scenario())
    assert hello == {"type": "snapshot", "user": alice.pk, "accounts": []}
    assert event == {"type": "event", "payload": {"position": "MESZ6 +2"}}
    assert nothing_else is True  # bob's message never reached alice
