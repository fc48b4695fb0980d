"""The live socket sends a snapshot on connect, then the mirror's changes, to their owner only.

Through the real ASGI stack (``config.asgi``: origin check, session auth) and the real Redis
channel layer; rows in the real database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from config.asgi import application
from tests.factories import (
    BrokerConnectionFactory,
    OrderFactory,
    PositionFactory,
    SubaccountFactory,
)
from trading.live_frames import mirror_changes_publish, order_frame, position_frame
from trading.models import Position

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")


def _cookie(user: User) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def _socket(cookie: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/live/", headers=[HOST, ORIGIN, cookie])


def test_connect_sends_the_snapshot_of_the_user_s_accounts(user: User) -> None:
    sub = SubaccountFactory.create(
        connection=BrokerConnectionFactory.create(user=user, label="Paper"), name="DEMO1001"
    )
    position = PositionFactory.create(subaccount=sub, net_pos=-3)
    order = OrderFactory.create(subaccount=sub)
    position.refresh_from_db()
    order.refresh_from_db()
    cookie = _cookie(user)

    async def scenario() -> dict[str, Any]:
        socket = _socket(cookie)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        first = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return dict(first)

    snapshot = asyncio.run(scenario())
    assert snapshot["type"] == "snapshot"
    assert snapshot["user"] == user.pk
    (account,) = snapshot["accounts"]
    assert account["account"]["name"] == "DEMO1001"
    assert account["positions"] == [position_frame(position)]
    assert account["orders"] == [order_frame(order)]


def test_a_second_user_s_socket_receives_nothing_of_the_first_s_changes(
    user: User, other_user: User
) -> None:
    sub = SubaccountFactory.create(connection=BrokerConnectionFactory.create(user=user))
    PositionFactory.create(subaccount=sub, net_pos=1)
    my_cookie, their_cookie = _cookie(user), _cookie(other_user)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], bool]:
        mine, theirs = _socket(my_cookie), _socket(their_cookie)
        assert (await mine.connect(timeout=5))[0]
        assert (await theirs.connect(timeout=5))[0]
        my_snapshot = await mine.receive_json_from(timeout=5)
        their_snapshot = await theirs.receive_json_from(timeout=5)

        def change() -> None:
            # What the mirror does after a commit: the row changes, then it publishes.
            position = Position.objects.get(subaccount=sub)
            position.net_pos = 2
            position.save()
            mirror_changes_publish(user_id=user.pk, position_pks=[position.pk])

        await sync_to_async(change)()
        event = await mine.receive_json_from(timeout=5)
        theirs_got_nothing = await theirs.receive_nothing(timeout=1)
        await mine.disconnect()
        await theirs.disconnect()
        return my_snapshot, their_snapshot, event, theirs_got_nothing

    my_snapshot, their_snapshot, event, theirs_got_nothing = asyncio.run(scenario())
    assert [p["net_pos"] for p in my_snapshot["accounts"][0]["positions"]] == [1]
    assert their_snapshot["accounts"] == []  # the other user has no account
    assert event["type"] == "event"
    assert (event["payload"]["kind"], event["payload"]["net_pos_text"]) == ("position", "long 2")
    assert theirs_got_nothing is True
