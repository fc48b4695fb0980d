"""Open P&L end to end: a position opened at the simulator is mirrored by the real
``run_streams`` process (user stream), whose market-data socket then quotes its contract; each
move reaches the owner's live group as a position frame with its open P&L, at most once a
second, through the real Redis channel layer."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.monitor.helpers import SYMBOL
from tests.processes import running, streams_cmd, wait_for
from tests.signals.helpers import outside_order
from tests.trading.live_helpers import GroupListener
from trading.live_frames import position_last_price
from trading.models import Position, TraderAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def streams(django_db_setup: Any, simulator_server: Any) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIMULATOR_URL", simulator_server.base_url)
        with running(
            streams_cmd(refresh_seconds=0.5, heartbeat_seconds=1), log_name="streams-open-pnl"
        ) as process:
            yield process


@pytest.fixture(autouse=True)
def _running(streams: Any, sim: Any) -> None:
    assert streams.poll() is None, "run_streams exited"
    sim.control.set_price(SYMBOL, "18000.00")
    sim.control.set_price("MESZ6", "6000.00")


def _mirrored(trader_account: TraderAccount, symbol: str, net_pos: int) -> Position:
    """The mirror's row of the position, once the user stream has reported ``net_pos``."""
    rows = Position.objects.filter(subaccount=trader_account.subaccount, symbol=symbol)
    wait_for(
        lambda: rows.filter(net_pos=net_pos).exists(),
        timeout=20,
        what=f"the mirror to say {symbol} {net_pos:+d}",
    )
    return rows.select_related("subaccount").get()


def _priced(position: Position, last_price: str) -> Any:
    return lambda f: (
        (f["kind"], f["id"], f.get("last_price")) == ("position", position.pk, last_price)
    )


def _requests(sim: Any, endpoint: str) -> int:
    count: int = sim.control.counters()["requests"].get(endpoint, 0)
    return count


def _md_sockets(sim: Any) -> int:
    return sum(1 for s in sim.control.sockets() if s["marketData"])


def test_open_pnl_of_a_position_follows_the_market_data_socket(
    trader_account: TraderAccount, sim: Any
) -> None:
    frames = GroupListener(trader_account.trader.user_id)
    outside_order(sim, "Buy", 1, symbol=SYMBOL)  # long 1 MNQ at 18000.00, no stop anywhere
    position = _mirrored(trader_account, SYMBOL, 1)

    first = frames.first(_priced(position, "18000"), timeout=20, what="the first quote's frame")
    assert (first["open_pnl"], first["open_pnl_text"]) == ("0", "$0.00")

    sim.control.step(SYMBOL, 8)  # +8 ticks of 0.25 = 2 points x $2
    started = time.monotonic()
    moved = frames.first(_priced(position, "18002"), timeout=5, what="the frame after the move")
    took = (time.monotonic() - started) * 1000
    # Up to a second: the first quote's frame went out just before (one frame a second).
    print(f"price move -> position frame with open P&L in {took:.0f} ms")
    assert (moved["open_pnl"], moved["open_pnl_text"]) == ("4", "+$4.00")
    assert moved["net_pos_text"] == "long 1"
    assert position_last_price(position=position) == Decimal("18002")  # what pages render


def test_a_closed_trades_mfe_and_mae_come_from_the_quotes_seen_while_it_was_open(
    trader_account: TraderAccount, sim: Any
) -> None:
    """Long 1 MNQ at 18000; the market goes to 18002, down to 17997 and back to 18000, where it
    is sold: the fills alone say 0 both ways, the quotes the streams process saw say +$4/-$6."""
    from analytics.models import Trade

    frames = GroupListener(trader_account.trader.user_id)
    outside_order(sim, "Buy", 1, symbol=SYMBOL)
    position = _mirrored(trader_account, SYMBOL, 1)
    frames.first(_priced(position, "18000"), timeout=20, what="the first quote's frame")
    for ticks, price in ((8, "18002"), (-20, "17997"), (12, "18000")):
        sim.control.step(SYMBOL, ticks)
        frames.first(_priced(position, price), timeout=5, what=f"the frame at {price}")
    outside_order(sim, "Sell", 1, symbol=SYMBOL)
    trades = Trade.objects.filter(subaccount=trader_account.subaccount, closed_at__isnull=False)
    wait_for(trades.exists, timeout=20, what="the closed trade")
    trade = trades.get()
    assert (trade.gross_pnl, trade.mfe, trade.mae) == (Decimal(0), Decimal(4), Decimal(-6))
    assert trade.excursion_seen


def test_a_burst_of_quotes_gives_at_most_one_frame_a_second_and_ends_on_the_last_price(
    trader_account: TraderAccount, sim: Any
) -> None:
    frames = GroupListener(trader_account.trader.user_id)
    outside_order(sim, "Buy", 1, symbol=SYMBOL)
    position = _mirrored(trader_account, SYMBOL, 1)
    frames.first(_priced(position, "18000"), timeout=20, what="the first quote's frame")

    quotes = 50

    def move() -> float:  # each step is one quote on the monitor's socket: 20 a second
        started = time.monotonic()
        for _ in range(quotes):
            sim.control.step(SYMBOL, 1)
            time.sleep(0.05)
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as pool:  # frames are timed as they arrive
        moving = pool.submit(move)
        received = frames.timed_frames(wait=2.0, until=time.monotonic() + 8)
        burst = moving.result()
    seen = [(at, f) for at, f in received if (f["kind"], f["id"]) == ("position", position.pk)]
    times = [at for at, _ in seen]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    print(
        f"{quotes} quotes in {burst:.2f} s -> {len(seen)} position frames, "
        f"gaps {[round(g, 2) for g in gaps]} s"
    )
    # Frames keep coming while the price moves (not only once it rests), a second apart.
    assert 2 <= len(seen) <= math.ceil(burst) + 2
    assert all(gap >= 0.9 for gap in gaps), gaps
    last = seen[-1][1]  # 50 ticks = 12.5 points x $2
    assert (last["last_price"], last["open_pnl_text"]) == ("18012.5", "+$25.00")


def test_a_flat_position_lets_go_of_its_symbol_and_the_last_one_of_the_socket(
    trader_account: TraderAccount, sim: Any
) -> None:
    frames = GroupListener(trader_account.trader.user_id)
    outside_order(sim, "Buy", 1, symbol=SYMBOL)
    outside_order(sim, "Buy", 1, symbol="MESZ6")
    mnq = _mirrored(trader_account, SYMBOL, 1)
    mes = _mirrored(trader_account, "MESZ6", 1)
    frames.first(_priced(mes, "6000"), timeout=20, what="MES quoted")
    assert _requests(sim, "md/subscribequote") == 2
    assert _md_sockets(sim) == 1  # one socket per login, whatever the number of contracts

    outside_order(sim, "Sell", 1, symbol=SYMBOL)  # MNQ flat; nothing else needs its quotes
    wait_for(
        lambda: _requests(sim, "md/unsubscribequote") == 1,
        timeout=10,
        what="MNQ unsubscribed",
    )
    assert Position.objects.get(pk=mnq.pk).net_pos == 0
    assert _md_sockets(sim) == 1
    sim.control.step("MESZ6", 4)  # MES is still quoted: 1 point x $5
    moved = frames.first(_priced(mes, "6001"), timeout=5, what="MES still priced")
    assert moved["open_pnl_text"] == "+$5.00"

    outside_order(sim, "Sell", 1, symbol="MESZ6")  # flat everywhere: the socket closes
    wait_for(lambda: _md_sockets(sim) == 0, timeout=10, what="the market-data socket closed")
    assert _requests(sim, "md/subscribequote") == 2
