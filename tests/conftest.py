from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import BrokerConnection, Subaccount, User
from config.redis import redis_client
from tests.factories import (
    TEST_PASSWORD,
    StrategyFactory,
    TraderAccountFactory,
    TraderFactory,
    UserFactory,
)
from trading.models import Strategy, TraderAccount

pytest_plugins = ["tests.sim_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True, scope="session")
def _clean_test_redis_keys() -> None:
    """Start from an empty test keyspace: this run's own prefix, and under pytest-xdist this
    worker's (config/settings.py suffixes it per worker). A running demo, another test run on
    the machine and the other workers are untouched: the pattern ends at the prefix's ':'."""
    from django.conf import settings

    assert settings.REDIS_KEY_PREFIX.startswith("bracketeer-test"), "tests need their own prefix"
    client = redis_client()
    for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def _no_broker_cooldowns() -> None:
    """A cooldown one test provoked must not block the next (same simulator, same login), nor
    the rate counts of its requests (config.rate_limit: 127.0.0.1 posts in every test)."""
    from django.conf import settings

    client = redis_client()
    for kind in ("cooldown", "rate"):
        for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:{kind}:*", count=1000):
            client.delete(key)


@pytest.fixture
def user(db: Any) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: Any) -> User:
    return UserFactory.create()


@pytest.fixture
def owner_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_client(other_user: User) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


@pytest.fixture
def browser(live_server: Any, transactional_db: Any) -> Iterator[Any]:
    """A fresh headless Chromium per test, started after the database and live server exist
    (Playwright's event loop would otherwise block their synchronous set-up)."""
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM guard would then
    # refuse the test's own (synchronous) queries. Allowed for browser tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def sim_settings(sim: Any, settings: Any) -> Any:
    """Point the simulator broker kind at this test's simulator process."""
    settings.SIMULATOR_URL = sim.base_url
    settings.TRADOVATE_TIMEOUT_SECONDS = 2.0
    settings.TRADOVATE_429_COOLDOWN_SECONDS = 5.0
    return sim


@pytest.fixture
def plan(db: Any) -> Any:
    """The Elite plan (re-seeded with the support group: transactional tests flush the data
    migrations' rows)."""
    from billing.models import Plan
    from tests.billing.whop_fixtures import ensure_billing_seed

    ensure_billing_seed()
    return Plan.objects.get(slug="elite")


@pytest.fixture
def member(user: User, plan: Any) -> User:
    """``user`` with an active staff-granted Elite membership."""
    from billing.services import membership_grant

    membership_grant(user=user, plan=plan, granted_by=None)
    return user


@pytest.fixture
def sim_connection(sim_settings: Any, member: User) -> BrokerConnection:
    from trading.brokers.services import broker_connection_create

    return broker_connection_create(
        user=member,
        label="Paper",
        broker=BrokerConnection.Broker.SIMULATOR,
        username="demo",
        password="demo-password",
    )


@pytest.fixture
def subaccounts(sim_connection: BrokerConnection) -> list[Subaccount]:
    """The simulator's DEMO1001 and DEMO1002, listed through the real connection test."""
    from trading.brokers.services import broker_connection_test

    return broker_connection_test(connection=sim_connection)


@pytest.fixture
def strategy(member: Any) -> Strategy:
    return StrategyFactory.create(
        user=member,
        name="MNQ breakout",
        entry_size=1,
        on_same_direction="ignore",
        on_opposite_direction="reverse",
        take_profits=[{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
        stop_distance="10",
        stop_unit="ticks",
    )


@pytest.fixture
def trader_account(strategy: Strategy, subaccounts: list[Subaccount]) -> TraderAccount:
    trader = TraderFactory.create(strategy=strategy, user=strategy.user)
    return TraderAccountFactory.create(trader=trader, subaccount=subaccounts[0])


__all__ = ["TEST_PASSWORD"]
