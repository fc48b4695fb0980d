"""The metrics (analytics/metrics.py): a worked example, then properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from analytics.metrics import INFINITE, ClosedTrade, excursion_of, metrics_of

T0 = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # a Monday


def trade(net: str, n: int, *, hold: int = 60) -> ClosedTrade:
    closed = T0 + timedelta(hours=n)
    return ClosedTrade(
        net=Decimal(net),
        gross=Decimal(net) + 1,
        fees=Decimal(1),
        opened_at=closed - timedelta(seconds=hold),
        closed_at=closed,
    )


def test_a_worked_example() -> None:
    m = metrics_of(
        [trade("100", 0), trade("-50", 1), trade("-30", 2), trade("0", 3), trade("60", 4)],
        start_balance=Decimal(1000),
    )
    assert (m.trades, m.wins, m.losses, m.break_even) == (5, 2, 2, 1)
    assert m.net == 80 and m.gross == 85 and m.fees == 5
    assert m.win_rate == Decimal("0.4") and m.profit_factor == Decimal(2)  # 160 / 80
    assert m.expectancy == 16 and m.average_win == 80 and m.average_loss == -40
    assert (m.largest_win, m.largest_loss) == (Decimal(100), Decimal(-50))
    assert m.max_drawdown == -80  # peak 100, trough 20
    assert m.max_drawdown_fraction == Decimal(-80) / 1100
    assert m.average_hold == timedelta(seconds=60)
    assert m.by_weekday == {0: Decimal(80)}
    assert m.equity_curve[-1][1] == 80


def test_no_losses_is_an_infinite_profit_factor_and_no_trades_is_none() -> None:
    assert metrics_of([trade("5", 0)]).profit_factor == INFINITE
    empty = metrics_of([])
    assert empty.profit_factor is None and empty.win_rate is None and empty.max_drawdown == 0


nets = st.lists(st.integers(-500, 500), max_size=40)


@given(values=nets)
def test_sums_match_the_trades_and_drawdown_is_never_positive(values: list[int]) -> None:
    trades = [trade(str(v), n) for n, v in enumerate(values)]
    m = metrics_of(trades, zone="America/New_York")
    assert m.net == sum(Decimal(v) for v in values)
    assert m.wins + m.losses + m.break_even == m.trades == len(values)
    assert m.max_drawdown <= 0
    assert m.max_drawdown >= -sum(Decimal(-v) for v in values if v < 0)
    assert sum(m.by_weekday.values(), Decimal(0)) == m.net == sum(m.by_hour.values(), Decimal(0))
    if values:
        assert m.equity_curve[-1][1] == m.net
        assert m.expectancy is not None
        assert abs(m.expectancy * m.trades - m.net) < Decimal("1e-20")
    if m.profit_factor is not None and m.profit_factor != INFINITE:
        assert m.profit_factor >= 0


def test_excursions_of_a_long_and_a_short_and_their_averages() -> None:
    # MNQ, $2 a point, 3 contracts, entered at 100; the price ran from 96 to 105.
    long = excursion_of(
        direction=1,
        entry_price=Decimal(100),
        high=Decimal(105),
        low=Decimal(96),
        qty=3,
        value_per_point=Decimal(2),
    )
    short = excursion_of(
        direction=-1,
        entry_price=Decimal(100),
        high=Decimal(105),
        low=Decimal(96),
        qty=3,
        value_per_point=Decimal(2),
    )
    assert long == (Decimal(30), Decimal(-24))
    assert short == (Decimal(24), Decimal(-30))
    t = trade("10", 0)
    m = metrics_of(
        [
            ClosedTrade(t.net, t.gross, t.fees, t.opened_at, t.closed_at, Decimal(30), Decimal(-4)),
            ClosedTrade(t.net, t.gross, t.fees, t.opened_at, t.closed_at, Decimal(10), Decimal(-8)),
            t,  # no excursion known: left out of the averages
        ]
    )
    assert (m.average_mfe, m.average_mae) == (Decimal(20), Decimal(-6))


prices = st.integers(min_value=1, max_value=10_000).map(Decimal)


@given(entry=prices, a=prices, b=prices, direction=st.sampled_from((1, -1)))
def test_mfe_is_never_negative_nor_mae_positive(
    entry: Decimal, a: Decimal, b: Decimal, direction: int
) -> None:
    high, low = max(a, b), min(a, b)
    mfe, mae = excursion_of(
        direction=direction,
        entry_price=entry,
        high=high,
        low=low,
        qty=2,
        value_per_point=Decimal(5),
    )
    assert mfe >= 0 >= mae
    if low <= entry <= high:  # entered inside the range: the two excursions span it
        assert mfe - mae == (high - low) * 10
