"""Reads of trades (analytics/selectors.py) against PostgreSQL, with trades built from fills."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from analytics.metrics import INFINITE
from analytics.models import FeeRate, Trade
from analytics.selectors import (
    TradeScope,
    daily_pnl,
    metrics_for,
    strategies_ranked,
    today_pnl,
    trade_for,
    trades_in,
)
from copytrade.models import CopyGroup, Follower
from tests.analytics.trade_builders import open_trade, round_trip
from tests.factories import (
    SignalFactory,
    StrategyFactory,
    SubaccountFactory,
    TraderAccountFactory,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
ZONE = "America/New_York"


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def scope(user: User, **kwargs: object) -> TradeScope:
    return TradeScope(user=user, zone=ZONE, **kwargs)  # type: ignore[arg-type]


def test_a_trade_closing_2330_in_new_york_counts_on_that_new_york_day(user: User) -> None:
    sub = SubaccountFactory.create(connection__user=user)
    # Closes 2026-11-10 23:30 New York = 2026-11-11 04:30 UTC.
    late = round_trip(sub, opened_at=ny(2026, 11, 10, 23, 20), points="5")
    assert late.closed_at is not None and late.closed_at.astimezone(UTC).day == 11
    round_trip(sub, opened_at=ny(2026, 11, 11, 0, 5), points="-2")  # just after midnight

    days = {d.day: (d.net, d.trades) for d in daily_pnl(scope=scope(user), month=date(2026, 11, 1))}
    assert len(days) == 30
    assert days[date(2026, 11, 10)] == (Decimal("10.00"), 1)
    assert days[date(2026, 11, 11)] == (Decimal("-4.00"), 1)
    assert days[date(2026, 11, 12)] == (Decimal(0), 0)

    on_the_tenth = scope(user, start=date(2026, 11, 10), end=date(2026, 11, 10))
    assert list(trades_in(scope=on_the_tenth)) == [late]
    assert metrics_for(scope=on_the_tenth).net == Decimal("10.00")
    # In UTC the same trade is on the 11th.
    utc = TradeScope(user=user, zone="UTC", start=date(2026, 11, 11), end=date(2026, 11, 11))
    assert trades_in(scope=utc).count() == 2


def test_metrics_cover_closed_trades_with_a_known_net_only(user: User) -> None:
    sub = SubaccountFactory.create(connection__user=user)
    FeeRate.objects.create(connection=sub.connection, root="MNQ", per_contract=Decimal("0.50"))
    t0 = ny(2026, 11, 2, 10, 0)
    round_trip(sub, opened_at=t0, points="10")  # +20 gross, 1.00 fees
    round_trip(sub, opened_at=t0 + timedelta(hours=1), points="-5", direction=-1)  # -10
    round_trip(sub, opened_at=t0 + timedelta(hours=2), points="3", symbol="XYZZ6")  # no $ value
    open_trade(sub, opened_at=t0 + timedelta(hours=3))

    m = metrics_for(scope=scope(user))
    assert (m.trades, m.wins, m.losses) == (2, 1, 1)
    assert (m.gross, m.fees, m.net) == (Decimal("10.00"), Decimal("2.00"), Decimal("8.00"))
    assert m.profit_factor == Decimal("19.00") / Decimal("11.00")
    assert m.by_weekday == {0: Decimal("8.00")}  # Monday in New York
    assert trades_in(scope=scope(user, status="open")).count() == 1
    assert trades_in(scope=scope(user, status="closed")).count() == 3
    assert trades_in(scope=scope(user, symbol="xyzz6")).count() == 1


def test_each_attribution_picks_its_own_trades(user: User) -> None:
    t0 = ny(2026, 11, 3, 10, 0)
    strategy = StrategyFactory.create(user=user)
    other_strategy = StrategyFactory.create(user=user)
    signal = SignalFactory.create(strategy=strategy)
    trader_account = TraderAccountFactory.create(
        trader__strategy=strategy, subaccount__connection__user=user
    )
    traded = trader_account.subaccount
    leader = SubaccountFactory.create(connection=traded.connection)
    follower = SubaccountFactory.create(connection=traded.connection)
    loner = SubaccountFactory.create(connection=traded.connection)
    group = CopyGroup.objects.create(user=user, name="Main", leader=leader)
    Follower.objects.create(group=group, subaccount=follower)

    by_signal = round_trip(traded, opened_at=t0, points="4", signal=signal)
    by_hand = round_trip(traded, opened_at=t0 + timedelta(hours=1), points="1")
    led = round_trip(leader, opened_at=t0, points="2")
    copied = round_trip(follower, opened_at=t0, points="2")
    alone = round_trip(loner, opened_at=t0, points="-1")

    def found(**kwargs: object) -> set[Trade]:
        return set(trades_in(scope=scope(user, **kwargs)))

    assert found() == {by_signal, by_hand, led, copied, alone}
    assert found(strategy_pk=strategy.pk) == {by_signal}
    assert found(strategy_pk=other_strategy.pk) == set()
    assert found(trader_pk=trader_account.trader_id) == {by_signal, by_hand}
    assert found(subaccount_pk=loner.pk) == {alone}
    assert found(copy_group_pk=group.pk) == {led, copied}

    ranked = strategies_ranked(scope=scope(user))
    assert [r.strategy for r in ranked] == [strategy, other_strategy]
    best = ranked[0].metrics
    assert (best.trades, best.net, best.win_rate, best.profit_factor) == (
        1,
        Decimal("8.00"),
        Decimal(1),
        INFINITE,
    )
    assert ranked[1].metrics.trades == 0


def test_another_tenant_sees_nothing_whatever_ids_it_names(user: User, other_user: User) -> None:
    sub = SubaccountFactory.create(connection__user=user)
    strategy = StrategyFactory.create(user=user)
    trade = round_trip(
        sub,
        opened_at=timezone.now() - timedelta(minutes=20),
        points="3",
        signal=SignalFactory.create(strategy=strategy),
    )
    group = CopyGroup.objects.create(user=user, name="Main", leader=sub)
    for ids in (
        {},
        {"subaccount_pk": sub.pk},
        {"strategy_pk": strategy.pk},
        {"copy_group_pk": group.pk},
    ):
        theirs = scope(other_user, **ids)
        assert not trades_in(scope=theirs).exists()
        assert metrics_for(scope=theirs).trades == 0
    assert strategies_ranked(scope=scope(other_user)) == []
    assert today_pnl(user=other_user).trades == 0
    assert today_pnl(user=user).net == Decimal("6.00")
    with pytest.raises(Http404):
        trade_for(user=other_user, pk=trade.pk)
    with pytest.raises(Http404):
        trade_for(user=user, pk=trade.pk + 1000)


def test_a_trade_shows_its_alert_price_against_its_entry_fill_and_the_missing_fee_rate(
    user: User,
) -> None:
    sub = SubaccountFactory.create(connection__user=user, connection__label="Paper")
    signal = SignalFactory.create(
        strategy__user=user, parsed={"alert": {"price": "21000.00"}, "fields": {}}
    )
    trade = round_trip(
        sub, opened_at=ny(2026, 11, 4, 9, 45), points="6", entry="21000.50", signal=signal
    )

    detail = trade_for(user=user, pk=trade.pk)
    assert [f.side for f in detail.fills] == ["Buy", "Sell"]
    (slip,) = detail.signals
    assert (slip.alert_price, slip.fill_price) == (Decimal("21000.00"), Decimal("21000.50"))
    assert (slip.points, slip.ticks, slip.dollars) == (Decimal("0.5"), Decimal(2), Decimal("1.00"))
    assert detail.fee_note == "No fee rate set for MNQ on Paper: fees shown as 0."

    FeeRate.objects.create(connection=sub.connection, root="MNQ", per_contract=Decimal("0.62"))
    assert trade_for(user=user, pk=trade.pk).fee_note == ""


def test_an_alert_price_not_stored_at_intake_is_read_from_the_alert_and_a_short_is_mirrored(
    user: User,
) -> None:
    sub = SubaccountFactory.create(connection__user=user)
    signal = SignalFactory.create(
        strategy__user=user, raw_body='{"action": "sell", "ticker": "MNQ1!", "price": 21000}'
    )
    trade = round_trip(
        sub,
        opened_at=ny(2026, 11, 4, 9, 45),
        points="2",
        direction=-1,
        entry="20999.75",
        signal=signal,
    )
    (slip,) = trade_for(user=user, pk=trade.pk).signals
    assert (slip.alert_price, slip.fill_price) == (Decimal(21000), Decimal("20999.75"))
    # A short filled a tick below the alert: a tick worse.
    assert (slip.points, slip.ticks, slip.dollars) == (Decimal("0.25"), Decimal(1), Decimal("0.50"))


def test_metrics_read_every_trade_exactly_to_the_microsecond(user: User) -> None:
    """metrics_for reads times as microseconds since 1970 (for speed: bench/performance.py
    measures 100,000 trades); the times and sums must come out exact."""
    sub = SubaccountFactory.create(connection__user=user)
    # Stored by one INSERT ... SELECT: nets cycle through -7.24 .. +4.76, a trade every
    # 5 minutes and n microseconds.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO analytics_trade (subaccount_id, contract_id, symbol, direction,
                opened_at, closed_at, max_qty, contracts, points, gross_pnl, fees, net_pnl,
                excursion_seen)
            SELECT %s, 1, 'MNQZ6', 1, t, t + interval '3 minutes', 1, 2, n %% 7 - 3,
                2 * (n %% 7 - 3), 1.24, 2 * (n %% 7 - 3) - 1.24, false
            FROM generate_series(0, 1999) AS n,
                LATERAL (SELECT timestamptz '2025-01-01 00:00Z' + n * interval '5 minutes'
                    + n * interval '1 microsecond') AS s(t)
            """,
            [sub.pk],
        )
    m = metrics_for(scope=scope(user))
    assert m.trades == 2_000
    assert m.net == sum(Decimal(2 * (n % 7 - 3)) - Decimal("1.24") for n in range(2_000))
    assert m.equity_curve[0][0] == datetime(2025, 1, 1, 0, 3, tzinfo=UTC)
    last = datetime(2025, 1, 1, tzinfo=UTC) + 1999 * timedelta(minutes=5, microseconds=1)
    assert m.equity_curve[-1][0] == last + timedelta(minutes=3)
