"""Two real ``run_streams`` processes share six broker logins through the Redis lease: each
login is streamed exactly once (counted at the simulator), and when one process is killed
(SIGKILL: no clean-up) the other takes its logins over within 15 s."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from accounts.models import BrokerConnection, Subaccount, User
from tests.factories import TraderAccountFactory, TraderFactory
from tests.processes import running, streams_cmd, wait_for
from tests.signals.helpers import sim_post
from tests.trading.stream_helpers import user_sockets
from trading.brokers.services import broker_connection_create, connection_login_key
from trading.models import Fill, Position, Strategy
from trading.stream_lease import lease_holders

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

LOGINS = 6
LEASE_SECONDS = 3


def _six_logins(
    sim: Any, member: User, strategy: Strategy
) -> tuple[dict[int, str], dict[str, tuple[str, int]]]:
    """Six simulator users, each a connection with an enabled trader account: sim user id ->
    login key, and login key -> (simulator user name, its account id)."""
    trader = TraderFactory.create(strategy=strategy, user=member, name="Sharded")
    users: dict[int, str] = {}
    accounts: dict[str, tuple[str, int]] = {}
    for n in range(LOGINS):
        made = sim.control.add_user(f"shard{n}", "shard-password", [f"SHARD{n}"])
        connection = broker_connection_create(
            user=member,
            label=f"Shard {n}",
            broker=BrokerConnection.Broker.SIMULATOR,
            username=f"shard{n}",
            password="shard-password",
        )
        account = made["accounts"][0]
        subaccount = Subaccount.objects.create(
            connection=connection, broker_account_id=account["id"], name=account["name"]
        )
        TraderAccountFactory.create(trader=trader, subaccount=subaccount)
        users[made["userId"]] = connection_login_key(connection=connection)
        accounts[users[made["userId"]]] = (f"shard{n}", account["id"])
    return users, accounts


def _hand_order(sim: Any, name: str, account_id: int) -> None:
    """A market order placed at the simulator outside Bracketeer, on that user's account."""
    sim_post(
        sim,
        "order/placeorder",
        {
            "accountId": account_id,
            "action": "Buy",
            "symbol": "MNQZ6",
            "orderQty": 1,
            "orderType": "Market",
        },
        name=name,
        password="shard-password",
    )


def _pid(holder: str) -> int:
    return int(holder.split(":")[1])


def test_two_processes_stream_each_login_once_and_a_killed_ones_logins_are_taken_over(
    sim_settings: Any, member: User, strategy: Strategy, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = sim_settings
    users, accounts = _six_logins(sim, member, strategy)
    each_once = dict.fromkeys(users, 1)
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    monkeypatch.setenv("STREAM_LEASE_SECONDS", str(LEASE_SECONDS))
    command = streams_cmd(refresh_seconds=1.5, heartbeat_seconds=0.5)
    with (
        running(command, log_name="streams-shard-a") as first,
        running(command, log_name="streams-shard-b") as second,
    ):
        wait_for(lambda: user_sockets(sim) == each_once, timeout=40, what="6 logins streamed")
        for _ in range(10):  # and it stays so: never a second reader
            assert user_sockets(sim) == each_once
            time.sleep(0.2)
        holders = lease_holders(logins=list(users.values()))
        assert len(holders) == LOGINS
        pids = [_pid(h) for h in holders.values()]
        assert set(pids) <= {first.pid, second.pid}
        print(
            f"\nleases: {pids.count(first.pid)} in one process, {pids.count(second.pid)} in the other"
        )

        victim, survivor = (
            (first, second) if pids.count(first.pid) >= pids.count(second.pid) else (second, first)
        )
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        victim.wait(timeout=10)
        # A fill while nobody streams the victim's first login: the taker's snapshot has it.
        orphaned = next(login for login, h in holders.items() if _pid(h) == victim.pid)
        name, account_id = accounts[orphaned]
        _hand_order(sim, name, account_id)

        def taken_over() -> bool:
            held = lease_holders(logins=list(users.values()))
            return (
                user_sockets(sim) == each_once
                and len(held) == LOGINS
                and all(_pid(h) == survivor.pid for h in held.values())
            )

        wait_for(taken_over, timeout=15, what="the survivor to stream every login")
        took = time.monotonic() - killed_at
        print(f"takeover of {pids.count(victim.pid)} login(s): {took:.1f} s")
        assert survivor.poll() is None
        wait_for(
            lambda: Fill.objects.filter(subaccount__broker_account_id=account_id).count() == 1,
            timeout=10,
            what="the fill made in between, recorded from the taker's snapshot",
        )
        # The fill's row can land before its position's (one snapshot, applied row by row).
        wait_for(
            lambda: Position.objects.filter(
                subaccount__broker_account_id=account_id, net_pos=1
            ).exists(),
            timeout=10,
            what="the position of that fill, from the same snapshot",
        )
        counters = sim.control.counters()
        assert counters["http_429_sent"] == 0
