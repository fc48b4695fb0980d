"""The user streams of ``run_streams`` in this process, against the simulator: one socket per
login, events handed over in order and one at a time, failures survived, periodic snapshots,
a lost lease closing the stream, a refused token replaced by one fresh login.

``Recorder`` stands in for ``mirror_apply``'s body (a stub until the mirror lands): these tests
are about what reaches it, in which order, and what the stream does around it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from accounts.models import BrokerConnection, Subaccount
from config.redis import redis_client, redis_key
from tests.factories import TraderAccountFactory, TraderFactory
from tests.trading.stream_helpers import Recorder, run_until, user_sockets
from trading.brokers.services import connection_login_key
from trading.brokers.tradovate.ws import ConnectGate
from trading.models import Strategy, TraderAccount
from trading.stream_lease import lease_holders
from trading.stream_state import stream_states_read
from trading.user_streams import UserStreams

pytestmark = pytest.mark.django_db(transaction=True)


def _manager(recorder: Recorder, **options: Any) -> UserStreams:
    options = {"refresh_seconds": 0.2, "lease_seconds": 3.0, "resync_seconds": 300.0, **options}
    return UserStreams(gate=ConnectGate(), apply=recorder, **options)


def _login(connection: BrokerConnection) -> str:
    return connection_login_key(connection=connection)


def _market_orders(sim: Any, count: int) -> None:
    """Orders placed at the simulator by hand (not by us), one after the other."""
    token = httpx.post(
        f"{sim.rest_url}/auth/accesstokenrequest",
        json={"name": "demo", "password": "demo-password"},
    ).json()["accessToken"]
    for n in range(count):
        httpx.post(
            f"{sim.rest_url}/order/placeorder",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "accountId": 1001,
                "action": "Buy" if n % 2 == 0 else "Sell",
                "symbol": "MNQZ6",
                "orderQty": 1,
                "orderType": "Market",
            },
        ).raise_for_status()


def test_two_traders_on_one_connection_and_repeated_refreshes_open_one_socket(
    trader_account: TraderAccount, strategy: Strategy, subaccounts: list[Subaccount], sim: Any
) -> None:
    second = TraderFactory.create(strategy=strategy, user=strategy.user, name="Second")
    TraderAccountFactory.create(trader=second, subaccount=subaccounts[1])
    recorder = Recorder()
    first_manager, second_manager = _manager(recorder), _manager(recorder)

    async def refresh_again() -> None:
        for _ in range(3):
            await first_manager.refresh()
            await second_manager.refresh()
        await asyncio.sleep(1.0)  # time for a second socket to show up, were one opened
        assert user_sockets(sim) == {1: 1}

    run_until(
        [first_manager, second_manager],
        until=lambda: user_sockets(sim) == {1: 1} and "sync" in recorder.kinds(),
        timeout=20,
        then=refresh_again,
    )
    counters = sim.control.counters()
    assert counters["ws_connects"] == 1
    assert counters["requests"]["user/syncrequest"] == 1
    assert len(first_manager.streams) + len(second_manager.streams) == 0  # closed on stop
    connection = subaccounts[0].connection
    assert {pk for pk, _ in recorder.calls} == {connection.pk}
    assert lease_holders(logins=[_login(connection)]) == {}  # freed on the clean stop


def test_events_reach_the_mirror_in_order_one_at_a_time_and_a_failure_does_not_stop_them(
    trader_account: TraderAccount, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(delay=0.02, fail_on={2})  # the first event after the snapshot fails
    manager = _manager(recorder)
    caplog.set_level(logging.ERROR, logger="trading.user_streams")
    depth: list[int] = []

    def orders_filled() -> bool:
        if "sync" in recorder.kinds() and not depth:
            depth.append(0)
            _market_orders(sim, 6)
        fills = [e for _, e in recorder.calls if e.entity_type == "fill"]
        return len(fills) >= 6

    async def measure() -> None:
        stream = next(iter(manager.streams.values()))
        depth.append(stream.progress.queue_max)
        assert stream.connected
        assert stream.progress.apply_failures == 1
        assert stream.progress.last_apply_error == "ValueError: mirror broke on call 2"

    run_until([manager], until=orders_filled, timeout=30, then=measure)
    assert recorder.kinds()[0] == "sync"
    assert recorder.most_at_once == 1
    created = [
        e.entity["id"]
        for _, e in recorder.calls
        if e.entity_type == "order" and e.event_type == "Created"
    ]
    assert len(created) == 6 and created == sorted(created)  # the order they were placed in
    assert depth[-1] > 1  # events waited while the mirror was busy: measured
    assert "applying" in caplog.text and "ValueError: mirror broke on call 2" in caplog.text


def test_the_open_socket_asks_for_a_snapshot_every_resync_period(
    trader_account: TraderAccount, sim: Any
) -> None:
    recorder = Recorder()
    manager = _manager(recorder, resync_seconds=0.5)
    run_until([manager], until=lambda: recorder.kinds().count("sync") >= 4, timeout=20)
    counters = sim.control.counters()
    assert counters["ws_connects"] == 1  # the same socket, asked again
    assert counters["requests"]["user/syncrequest"] >= 4


def test_a_lost_lease_closes_the_stream_at_once_and_it_stays_closed(
    trader_account: TraderAccount, subaccounts: list[Subaccount], sim: Any
) -> None:
    recorder = Recorder()
    manager = _manager(recorder, lease_seconds=1.5)
    login = _login(subaccounts[0].connection)
    key = redis_key("stream-lease", login)

    async def take_the_lease_away() -> None:
        await asyncio.to_thread(redis_client().set, key, "another-process", px=60_000)
        for _ in range(40):  # renewals come every 0.5 s
            if not manager.streams and not await asyncio.to_thread(user_sockets, sim):
                break
            await asyncio.sleep(0.05)
        assert manager.streams == {}
        assert await asyncio.to_thread(user_sockets, sim) == {}
        await asyncio.sleep(1.5)  # refreshes go on: the lease is another's, nothing reopens
        assert await asyncio.to_thread(user_sockets, sim) == {}

    run_until(
        [manager], until=lambda: user_sockets(sim) == {1: 1}, timeout=20, then=take_the_lease_away
    )
    assert lease_holders(logins=[login]) == {login: "another-process"}  # not released by us
    redis_client().delete(key)


def test_a_refused_token_is_replaced_by_one_fresh_login(
    trader_account: TraderAccount, subaccounts: list[Subaccount], sim: Any
) -> None:
    recorder = Recorder()
    manager = _manager(recorder)
    logins_before: list[int] = []

    def resynced_after_refusal() -> bool:
        requests = sim.control.counters()["requests"]
        if not logins_before:
            if recorder.kinds().count("sync") < 1:
                return False
            logins_before.append(requests.get("auth/accesstokenrequest", 0))
            sim.control.faults(expire_tokens=True)  # the broker revokes the session ...
            sim.control.drop(1)  # ... and the socket drops: authorize is refused next
            return False
        return recorder.kinds().count("sync") >= 2

    run_until([manager], until=resynced_after_refusal, timeout=30)
    requests = sim.control.counters()["requests"]
    assert requests["auth/accesstokenrequest"] == logins_before[0] + 1
    assert requests["authorize"] >= 3  # first, refused, accepted
    states = stream_states_read(logins=[_login(subaccounts[0].connection)])
    assert list(states.values())[0].holder == ""  # the last state written on the clean stop


def test_a_login_deleted_and_added_again_keeps_streaming_through_its_new_connection(
    trader_account: TraderAccount, subaccounts: list[Subaccount], sim: Any
) -> None:
    """The same login removed and added back within one refresh: the running stream is kept,
    and its next connect logs in with the new connection (the old one no longer exists)."""
    from trading.brokers.services import broker_connection_create

    recorder = Recorder()
    manager = _manager(recorder)
    old = subaccounts[0].connection
    new: list[BrokerConnection] = []

    def through_the_new_connection() -> bool:
        if not new:
            if "sync" not in recorder.kinds():
                return False
            trader = trader_account.trader
            old.delete()  # the connection, its accounts and trader accounts
            connection = broker_connection_create(
                user=trader.user,
                label="Paper again",
                broker=BrokerConnection.Broker.SIMULATOR,
                username="demo",
                password="demo-password",
            )
            sub = Subaccount.objects.create(
                connection=connection, broker_account_id=1001, name="DEMO1001"
            )
            TraderAccountFactory.create(trader=trader, subaccount=sub)
            new.append(connection)
            sim.control.faults(expire_tokens=True)  # the old session is gone with it ...
            sim.control.drop(1)  # ... and the socket drops: the reconnect needs a new login
            return False
        return any(pk == new[0].pk and e.entity_type == "sync" for pk, e in recorder.calls)

    run_until([manager], until=through_the_new_connection, timeout=30)
