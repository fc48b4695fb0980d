"""The browser's live socket at /ws/live/, through the real ASGI stack and the Redis layer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.factories import UserFactory
from trading.live import user_group

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")


def _session_cookie(user: object) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def test_anonymous_connection_is_refused() -> None:
    async def scenario() -> tuple[bool, object]:
        communicator = WebsocketCommunicator(application, "/ws/live/", headers=[HOST, ORIGIN])
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
            application, "/ws/live/", headers=[HOST, (b"origin", b"https://evil.example"), cookie]
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
            application, "/ws/live/", headers=[HOST, ORIGIN, alice_cookie]
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


def _connects(headers: list[tuple[bytes, bytes]], path: str = "/ws/live/") -> bool:
    async def scenario() -> bool:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return bool(connected)

    return asyncio.run(scenario())


def test_an_origin_on_another_port_of_the_same_host_is_refused() -> None:
    cookie = _session_cookie(UserFactory.create())
    site = (b"host", b"127.0.0.1:8000")
    assert _connects([site, (b"origin", b"http://127.0.0.1:8000"), cookie]) is True
    assert _connects([site, (b"origin", b"http://127.0.0.1:9999"), cookie]) is False
    assert _connects([site, (b"origin", b"http://127.0.0.1"), cookie]) is False  # port 80
    assert _connects([site, (b"origin", b"https://127.0.0.1:8000"), cookie]) is False  # scheme
    assert _connects([site, cookie]) is False  # no Origin at all


def test_the_socket_behind_tls_wants_an_https_origin() -> None:
    cookie = _session_cookie(UserFactory.create())
    site = (b"host", b"localhost")

    async def scenario(origin: bytes) -> bool:
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[site, (b"origin", origin), cookie]
        )
        communicator.scope["scheme"] = "wss"  # what uvicorn sets from a trusted proxy's header
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return bool(connected)

    assert asyncio.run(scenario(b"https://localhost")) is True
    assert asyncio.run(scenario(b"https://localhost:443")) is True
    assert asyncio.run(scenario(b"http://localhost")) is False


def test_a_host_not_in_allowed_hosts_is_refused_even_when_origin_matches() -> None:
    cookie = _session_cookie(UserFactory.create())
    evil = [(b"host", b"evil.example"), (b"origin", b"http://evil.example"), cookie]
    assert _connects(evil) is False


def test_a_trusted_origin_is_accepted_with_its_exact_port(settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com:8443"]
    cookie = _session_cookie(UserFactory.create())
    site = (b"host", b"localhost:8000")
    assert _connects([site, (b"origin", b"https://app.example.com:8443"), cookie]) is True
    assert _connects([site, (b"origin", b"https://app.example.com"), cookie]) is False
