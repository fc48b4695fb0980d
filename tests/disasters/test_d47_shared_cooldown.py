"""D47 — backoff was per connection, with no shared cooldown: a 429 storm.

Invariant: a 429 starts a cooldown shared by every connection and process of that broker
login. Another process hits 429; this process then sends nothing until the cooldown ends.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from accounts.models import BrokerConnection
from tests.brokers.streams import demo_token, make_socket, run_sockets
from tests.processes import run_python
from trading.brokers.base import BrokerRateLimited
from trading.brokers.cooldown import cooldown_get
from trading.brokers.services import broker_for, connection_login_key
from trading.brokers.tradovate.broker import TradovateBroker

pytestmark = pytest.mark.django_db

OTHER_PROCESS = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.conf import settings
from trading.brokers.base import BrokerRateLimited
from trading.brokers.cooldown import login_key
from trading.brokers.tradovate.rest import TradovateREST
login = login_key(environment=f"simulator@{settings.SIMULATOR_URL}", username="demo")
rest = TradovateREST(rest_url=settings.SIMULATOR_URL + "/v1", login=login, access_token=sys.argv[1])
try:
    rest.call("GET", "account/list")
except BrokerRateLimited as exc:
    print("429:", exc)
    sys.exit(0)
sys.exit("expected a 429")
"""


def test_a_429_in_another_process_stops_this_one(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker = broker_for(connection=sim_connection)
    # The simulator answers 429 until told otherwise (below): however long the other process
    # takes to start Django and ask (10 s was once not enough on a busy 2-core machine).
    sim.control.faults(rate_limit_429_seconds=600)
    assert isinstance(broker, TradovateBroker)  # the test reads the session it holds
    token = broker.rest.access_token
    assert token is not None
    # The other process's cooldown must outlast its own exit and this process's next call
    # (3 s did not always, under load); the test waits for its end below.
    other = run_python(
        "-c",
        OTHER_PROCESS,
        token,
        env={"SIMULATOR_URL": sim.base_url, "TRADOVATE_429_COOLDOWN_SECONDS": "8"},
    )
    assert other.returncode == 0, other.stderr
    assert "HTTP 429" in other.stdout

    before = sim.control.counters()["requests"].get("account/list", 0)
    with pytest.raises(BrokerRateLimited) as error:
        broker.accounts()
    assert "cooling down" in str(error.value)
    assert sim.control.counters()["requests"].get("account/list", 0) == before  # nothing sent

    cooldown = cooldown_get(login=connection_login_key(connection=sim_connection))
    assert cooldown is not None and cooldown.remaining_seconds > 0
    sim.control.faults(rate_limit_429_seconds=0)
    time.sleep(cooldown.remaining_seconds + 0.1)
    assert len(broker.accounts()) == 2  # once the shared cooldown ends, calls go out again


def test_a_stream_does_not_connect_during_the_cooldown(sim: Any) -> None:
    from trading.brokers.cooldown import cooldown_start

    token = demo_token(sim.rest_url)
    socket = make_socket(sim.ws_url, token)
    cooldown_start(login=socket.login, seconds=1.5, reason="429 seen by another process")
    seconds = run_sockets([socket], timeout=20, until=lambda: socket.stats.syncs >= 1)
    assert seconds >= 1.4
    assert socket.stats.connects == 1
