"""The streams benchmark's broker logins: simulator users with their connections in the bench
database (streamed by run_streams or not), their stream state as run_streams reports it, and a
listener socket that records what the simulator sends a login."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from _common import wait_until

PASSWORD = "bench-password"
EMAIL_DOMAIN = "bench-streams.example"


@dataclass
class BenchLogin:
    """One simulator user, its connection (owned by its own Django user) and accounts."""

    sim_name: str
    user: Any
    connection: Any
    accounts: list[dict[str, Any]]  # the simulator's {"id", "name"}
    key: str  # its login key (stream lease, stream state)


def login_seed(sim: Any, name: str, accounts: int, *, streamed: bool) -> BenchLogin:
    """A simulator user with ``accounts`` accounts, and its connection in the bench database;
    ``streamed``: with an enabled trader account on each (run_streams opens it)."""
    created = sim.control.add_user(name, PASSWORD, [f"{name.upper()}A{i}" for i in range(accounts)])
    return login_connect(sim_name=name, accounts=created["accounts"], streamed=streamed)


def login_connect(
    *, sim_name: str, accounts: list[dict[str, Any]], streamed: bool, user: Any = None
) -> BenchLogin:
    """The connection of a simulator user and its accounts, owned by ``user`` (else a Django
    user of its own)."""
    from accounts.models import BrokerConnection, Subaccount, User
    from trading.brokers.services import broker_connection_create, connection_login_key
    from trading.models import Strategy, Trader, TraderAccount

    owner = f"{sim_name}-{uuid.uuid4().hex[:4]}"
    if user is None:
        user = User.objects.create_user(f"{owner}@{EMAIL_DOMAIN}", "bench-password-123")
    connection = broker_connection_create(
        user=user,
        label=owner,
        broker=BrokerConnection.Broker.SIMULATOR,
        username=sim_name,
        password=PASSWORD,
    )
    subaccounts = Subaccount.objects.bulk_create(
        [
            Subaccount(connection=connection, broker_account_id=a["id"], name=a["name"])
            for a in accounts
        ]
    )
    if streamed:
        strategy = Strategy.objects.create(user=user, name=f"s-{owner}")
        trader = Trader.objects.create(user=user, strategy=strategy, name=f"t-{owner}")
        TraderAccount.objects.bulk_create(
            [TraderAccount(trader=trader, subaccount=s) for s in subaccounts]
        )
    return BenchLogin(
        sim_name=sim_name,
        user=user,
        connection=connection,
        accounts=accounts,
        key=connection_login_key(connection=connection),
    )


def streams_ready(keys: list[str]) -> bool:
    """Every login connected, its snapshot received and applied (as its holder last wrote)."""
    from trading.stream_state import stream_states_read

    states = stream_states_read(logins=keys)
    return len(states) == len(keys) and all(
        s.connected and s.progress.synced_at is not None and s.progress.applied >= 1
        for s in states.values()
    )


def progress_of(key: str) -> Any:
    from trading.stream_state import stream_states_read

    return stream_states_read(logins=[key])[key].progress


class Listener:
    """A second user socket of one login (the same client code as run_streams), in a thread:
    records every ``props`` event the simulator sends with its arrival time. The simulator
    sends each event to every socket of the user in the same flush."""

    def __init__(self, sim: Any, login: BenchLogin) -> None:
        from tests.brokers.streams import demo_token
        from trading.brokers.tradovate.ws import ConnectGate, StreamEvent, TradovateSocket

        token = demo_token(sim.rest_url, username=login.sim_name, password=PASSWORD)
        self.events: list[tuple[float, StreamEvent]] = []
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()

        async def provide() -> str:
            return token.access_token

        async def record(event: StreamEvent) -> None:
            if event.entity_type != "sync":
                self.events.append((time.time(), event))

        self.socket = TradovateSocket(
            url=sim.ws_url,
            token=provide,
            user_id=token.user_id,
            login=f"bench-listener:{login.key}",
            gate=ConnectGate(),
            on_event=record,
        )
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self.socket.run(self._stop))

    def __enter__(self) -> Listener:
        self._thread.start()
        wait_until(lambda: self.socket.stats.syncs >= 1, timeout=20, what="the listener's sync")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


def rest_token(sim: Any, login: BenchLogin) -> str:
    from tests.brokers.streams import demo_token

    return demo_token(sim.rest_url, username=login.sim_name, password=PASSWORD).access_token
