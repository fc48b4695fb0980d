"""The streams process's last prices when a feed goes quiet or dies (real Redis, PostgreSQL and
channel layer; the flushes run in real threads). Quotes, throttling and subscriptions at the
simulator: tests/monitor/test_open_pnl.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
from django.db import connections

from accounts.models import User
from config.redis import redis_client, redis_key
from tests.factories import BrokerConnectionFactory, PositionFactory, SubaccountFactory
from tests.trading.live_helpers import GroupListener
from trading.last_prices import LAST_PRICE_TTL_SECONDS
from trading.live_frames import position_last_price
from trading.monitor_prices import KEEP_ALIVE_SECONDS, PriceTapes

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")


async def _thread(function: Callable[[], T]) -> T:
    def run() -> T:
        try:
            return function()
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


async def _flushed(tapes: PriceTapes) -> None:
    if tapes.tasks:
        await asyncio.wait(list(tapes.tasks))


def test_a_live_quiet_feed_keeps_its_price_and_a_dead_one_shows_none(user: User) -> None:
    connection = BrokerConnectionFactory.create(user=user)
    position = PositionFactory.create(
        subaccount=SubaccountFactory.create(connection=connection),
        contract_id=90,
        net_pos=1,
        net_price=Decimal("18000"),
    )
    key = (connection.pk, 90)
    stored = redis_key("last-price", connection.pk, 90)
    frames = GroupListener(user.pk)
    ttls: list[int] = []

    async def scenario() -> None:
        tapes = PriceTapes(thread=_thread, slots=2)
        tapes.holders_set({key: {user.pk: (position.pk,)}})
        tapes.quote(connection_pk=connection.pk, contract_id=90, last=Decimal("18002"))
        await _flushed(tapes)
        tape = tapes.tapes[key]

        # A quiet market on a live socket: the price is written again before it expires.
        redis_client().expire(stored, 5)
        tape.stored_at -= KEEP_ALIVE_SECONDS + 1
        tapes.keep_alive(live=lambda _: True)
        await _flushed(tapes)
        ttls.append(redis_client().ttl(stored))

        # The socket has been down longer than a price lives: its holders are told "—".
        tape.stored_at -= LAST_PRICE_TTL_SECONDS + 1
        tapes.keep_alive(live=lambda _: False)
        await _flushed(tapes)
        tapes.stop()

    asyncio.run(scenario())
    priced, blank = frames.frames()  # the rewrite sent nothing
    assert (priced["last_price"], priced["open_pnl_text"]) == ("18002", "+$4.00")
    assert ttls[0] > LAST_PRICE_TTL_SECONDS - 5
    assert (blank["last_price"], blank["open_pnl_text"]) == (None, "—")
    assert position_last_price(position=position) is None


def test_a_move_out_and_back_within_the_second_widens_the_open_trades_excursion(
    user: User,
) -> None:
    """The quotes go 18004, 17990, 18000 between two flushes: the last price ends where it was
    sent, yet the open trade's running high/low (and so its MFE/MAE) take in the whole range."""
    from analytics.models import PriceExcursion, Trade
    from analytics.services import trades_rebuild
    from tests.factories import FillFactory

    subaccount = SubaccountFactory.create(connection=BrokerConnectionFactory.create(user=user))
    position = PositionFactory.create(
        subaccount=subaccount, contract_id=91, net_pos=1, net_price=Decimal("18000")
    )
    FillFactory.create(subaccount=subaccount, contract_id=91, price=Decimal("18000"))
    trades_rebuild(subaccount_pk=subaccount.pk, contract_id=91)
    key = (subaccount.connection_id, 91)

    async def scenario() -> None:
        tapes = PriceTapes(thread=_thread, slots=2, frame_seconds=0.3)
        tapes.holders_set({key: {user.pk: (position.pk,)}})
        tapes.quote(connection_pk=key[0], contract_id=91, last=Decimal("18000"))
        await _flushed(tapes)
        for last in ("18004", "17990", "18000"):  # inside the throttle: one flush later
            tapes.quote(connection_pk=key[0], contract_id=91, last=Decimal(last))
        await asyncio.sleep(0.5)
        await _flushed(tapes)
        tapes.stop()

    asyncio.run(scenario())
    seen = PriceExcursion.objects.get(subaccount=subaccount, contract_id=91)
    assert (seen.high, seen.low) == (Decimal("18004"), Decimal("17990"))
    trade = Trade.objects.get(subaccount=subaccount)
    # Long 1 MNQ ($2 a point) from 18000: +4 points at best, -10 at worst.
    assert (trade.mfe, trade.mae, trade.excursion_seen) == (Decimal(8), Decimal(-20), True)

    FillFactory.create(subaccount=subaccount, contract_id=91, side="Sell", price=Decimal("18001"))
    trades_rebuild(subaccount_pk=subaccount.pk, contract_id=91)
    closed = Trade.objects.get(subaccount=subaccount)  # rebuilt: the range it saw is kept
    assert closed.closed_at is not None
    assert (closed.mfe, closed.mae, closed.gross_pnl) == (Decimal(8), Decimal(-20), Decimal(2))
