"""The dashboard, the trades page (and its CSV), a trade's page and the fee form."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from analytics.models import FeeRate, Trade
from tests.analytics.trade_builders import open_trade, round_trip
from tests.factories import SignalFactory, StrategyFactory, SubaccountFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def trades_of(
    user: User,
    n: int,
    *,
    start: datetime,
    name: str = "Opening drive",
    every: timedelta = timedelta(hours=1),
) -> list[Trade]:
    sub = SubaccountFactory.create(connection__user=user)
    strategy = StrategyFactory.create(user=user, name=name)
    return [
        round_trip(
            sub,
            opened_at=start + every * n,
            points=("5" if n % 3 else "-2"),
            signal=SignalFactory.create(strategy=strategy),
        )
        for n in range(n)
    ]


def test_the_dashboard_shows_today_the_equity_curve_the_calendar_and_strategies(
    user: User, owner_client: Client
) -> None:
    start = timezone.now() - timedelta(minutes=40)
    *_, last = trades_of(user, 3, start=start, every=timedelta(minutes=10))  # -4, +10, +10
    closed = last.closed_at.astimezone(NEW_YORK).date()  # type: ignore[union-attr]
    page = owner_client.get(f"/dashboard/?month={closed:%Y-%m}").content.decode()

    equity = json.loads(re.search(r'id="equity-data"[^>]*>(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    assert [p["value"] for p in equity] == [-4.0, 6.0, 16.0]
    assert 'data-chart="equity"' in page and "lightweight-charts.standalone" in page
    assert "https://www.tradingview.com/" in page  # the licence's attribution
    assert 'id="live-accounts"' in page and "js/live.js" in page  # the live part is kept
    assert re.search(r'<strong id="today-trades">\d</strong>', page)
    assert "Opening drive" in page and 'id="strategies-ranked"' in page
    cell = re.search(rf'<td [^>]*data-day="{closed:%Y-%m-%d}"[^>]*>', page)
    assert cell is not None and "trade" in cell[0] and "aria-label" in cell[0]
    assert "No closed trade yet" not in page


def test_the_calendar_counts_the_new_york_day_and_moves_by_month(
    user: User, owner_client: Client
) -> None:
    sub = SubaccountFactory.create(connection__user=user)
    round_trip(sub, opened_at=ny(2026, 10, 14, 23, 0), points="12.5")  # closes 23:10 New York

    page = owner_client.get("/dashboard/?month=2026-10").content.decode()
    assert "Daily net P&amp;L, October 2026" in page
    assert 'aria-label="Wednesday 14 October: +$25.00, 1 trade"' in page
    assert 'aria-label="Thursday 15 October: no trade"' in page
    assert 'href="?month=2026-09"' in page and 'href="?month=2026-11"' in page
    assert owner_client.get("/dashboard/?month=junk").status_code == 200  # this month instead


def test_a_new_user_is_told_what_to_do(owner_client: Client) -> None:
    page = owner_client.get("/dashboard/").content.decode()
    assert "No closed trade yet: trades appear when fills come back from the broker" in page
    assert "lightweight-charts" not in page  # no chart, no script
    trades = owner_client.get("/performance/trades/").content.decode()
    assert "No trade yet: trades appear when fills come back from the broker." in trades


def test_the_dashboards_queries_do_not_grow_with_trades(
    user: User, owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    trades_of(user, 2, start=ny(2026, 11, 2, 10, 0))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        owner_client.get("/dashboard/")
        owner_client.get("/performance/trades/")
    trades_of(user, 30, start=ny(2026, 11, 3, 10, 0), name="Second")
    assert len(few) < 40
    with django_assert_max_num_queries(len(few)):
        owner_client.get("/dashboard/")
        owner_client.get("/performance/trades/")


def test_the_trades_page_filters_sums_and_pages(user: User, owner_client: Client) -> None:
    sub = SubaccountFactory.create(connection__user=user, name="DEMO1001")
    other = SubaccountFactory.create(connection=sub.connection, name="DEMO1002")
    for n in range(55):
        round_trip(sub, opened_at=ny(2026, 11, 2, 9, 30) + timedelta(minutes=15 * n), points="1")
    round_trip(other, opened_at=ny(2026, 11, 5, 9, 30), points="-3")
    open_trade(other, opened_at=ny(2026, 11, 6, 9, 30))

    page = owner_client.get("/performance/trades/").content.decode()
    assert "57 in all" in page and "Page 1 of 2" in page
    assert 'id="metric-trades">56 (55 / 1 / 0)' in page
    assert 'href="?page=2"' in page

    only_first = owner_client.get(f"/performance/trades/?account={sub.pk}").content.decode()
    assert 'id="metric-profit-factor">∞' in only_first  # no loss on DEMO1001
    assert 'class="pnl-up" id="metric-net">+$110.00' in only_first
    assert "Monday" in only_first and "09:00–09:59" in only_first
    equity = re.search(r'id="equity-data"[^>]*>(.*?)</script>', only_first, re.S)
    assert equity is not None and len(json.loads(equity[1])) == 55  # the filter's curve
    assert f'href="?account={sub.pk}&amp;page=2"' in only_first

    open_only = owner_client.get("/performance/trades/?status=open").content.decode()
    assert "1 in all" in open_only and "No closed trade matches these filters" in open_only
    swapped = owner_client.get("/performance/trades/?start=2026-11-05&end=2026-11-01")
    assert swapped.status_code == 400
    assert "The first day is after the last day" in swapped.content.decode()


def test_the_csv_has_a_header_and_the_filtered_trades_in_the_users_zone(
    user: User, owner_client: Client
) -> None:
    sub = SubaccountFactory.create(connection__user=user, name="DEMO1001")
    FeeRate.objects.create(connection=sub.connection, root="MNQ", per_contract=Decimal("0.62"))
    round_trip(sub, opened_at=ny(2026, 11, 10, 23, 20), points="5", entry="21000.25")
    round_trip(sub, opened_at=ny(2026, 11, 12, 10, 0), points="-1", direction=-1)

    response = owner_client.get("/performance/trades/?start=2026-11-10&end=2026-11-10&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][:6] == ["id", "account", "symbol", "direction", "opened_at", "closed_at"]
    (row,) = rows[1:]
    record = dict(zip(rows[0], row, strict=True))
    assert record["opened_at"] == "2026-11-10T23:20:00-05:00"
    assert record["closed_at"] == "2026-11-10T23:30:00-05:00"
    assert (record["entry_price"], record["exit_price"]) == ("21000.25", "21005.25")
    assert (record["gross_pnl"], record["fees"], record["net_pnl"]) == ("10.00", "1.24", "8.76")
    assert record["direction"] == "long" and {"mfe", "mae"} <= set(record)


def test_a_trades_page_shows_fills_signal_slippage_and_the_missing_fee(
    user: User, owner_client: Client, other_client: Client
) -> None:
    sub = SubaccountFactory.create(connection__user=user, connection__label="Paper")
    signal = SignalFactory.create(
        strategy__user=user, parsed={"alert": {"price": "21000.00"}, "fields": {}}
    )
    trade = round_trip(
        sub, opened_at=ny(2026, 11, 4, 9, 45), points="6", entry="21000.50", signal=signal
    )
    page = owner_client.get(f"/performance/trades/{trade.pk}/").content.decode()
    assert f'href="/trading/signals/{signal.pk}/"' in page
    assert "0.5 points, 2 ticks, +$1.00 per contract" in page
    assert "worse than" in page
    assert "No fee rate set for MNQ on Paper: fees shown as 0." in page
    assert 'id="trade-mfe">' in page
    assert page.count('<td class="side"') == 2  # the two fills
    assert other_client.get(f"/performance/trades/{trade.pk}/").status_code == 404
    assert other_client.get(f"/performance/trades/{trade.pk + 999}/").status_code == 404


def test_the_fee_form_sets_a_rate_and_shows_a_refusal_in_words(
    user: User, owner_client: Client, other_user: User
) -> None:
    sub = SubaccountFactory.create(connection__user=user, connection__label="Paper")
    trade = round_trip(sub, opened_at=ny(2026, 11, 4, 9, 45), points="6")
    form = {"connection": sub.connection_id, "root": "mnq", "per_contract": "0.62"}

    page = owner_client.post("/performance/fees/", form, follow=True).content.decode()
    assert "MNQ on Paper: $0.62 per contract per side. 1 trade recalculated." in page
    rebuilt = Trade.objects.get(subaccount=sub, contract_id=trade.contract_id)
    assert (rebuilt.fees, rebuilt.net_pnl) == (Decimal("1.24"), Decimal("10.76"))

    refused = owner_client.post("/performance/fees/", {**form, "root": "XX"}, follow=True)
    assert "Unknown contract root &#x27;XX&#x27;" in refused.content.decode()
    foreign = SubaccountFactory.create(connection__user=other_user).connection_id
    owner_client.post("/performance/fees/", {**form, "connection": foreign})
    assert not FeeRate.objects.filter(connection_id=foreign).exists()


def test_the_nav_links_the_performance_pages(owner_client: Client) -> None:
    page = owner_client.get("/performance/trades/").content.decode()
    assert re.search(r'<a href="/performance/trades/" aria-current="page">Performance</a>', page)
    assert date.today().year > 2000  # the page rendered without a chart or data


def test_csv_text_from_the_broker_is_never_a_spreadsheet_formula() -> None:
    from accounts.models import Subaccount
    from analytics.presentation import csv_rows

    trade = Trade(
        pk=1,
        subaccount=Subaccount(name="=HYPERLINK(1)"),
        symbol="@MNQ",
        direction=-1,
        opened_at=datetime(2026, 11, 2, 15, 0, tzinfo=ZoneInfo("UTC")),
        max_qty=1,
        contracts=1,
        points=Decimal("-1.50000000"),
        fees=Decimal("0.62"),
    )
    header, row = csv_rows([trade], zone="Europe/Berlin")
    record = dict(zip(header, row, strict=True))
    assert (record["account"], record["symbol"]) == ("'=HYPERLINK(1)", "'@MNQ")
    assert (record["points"], record["net_pnl"], record["closed_at"]) == ("-1.5", "", "")
    assert record["opened_at"] == "2026-11-02T16:00:00+01:00"


def test_the_equity_curve_is_in_local_time_and_one_point_a_day_when_long() -> None:
    from analytics.presentation import equity_points

    t0 = datetime(2026, 11, 2, 14, 30, tzinfo=ZoneInfo("UTC"))
    curve = [(t0 + timedelta(hours=6 * n), Decimal(n)) for n in range(8)]  # 2 days
    points = equity_points(curve, zone="America/New_York")
    local = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("UTC"))  # 14:30 UTC is 09:30 EST
    assert points[0] == {"time": int(local.timestamp()), "value": 0.0}
    assert len(points) == 8
    daily = equity_points(curve, zone="America/New_York", most=4)
    assert [p["value"] for p in daily] == [2.0, 6.0, 7.0]  # the last of each New York day


@pytest.mark.django_db(transaction=True)
def test_a_fill_sends_todays_pnl_to_the_owners_open_dashboards(
    user: User, other_user: User
) -> None:
    """The mirror's new-fill signal rebuilds the trades, then today's net and trade count go
    to the owner's tabs (only): the dashboard's figures follow without a reload."""
    from django.utils import timezone

    from tests.factories import FillFactory, SubaccountFactory
    from tests.trading.live_helpers import GroupListener
    from trading.mirror import fill_announce

    sub = SubaccountFactory.create(connection__user=user)
    now = timezone.now()
    FillFactory.create(subaccount=sub, contract_id=7, price=Decimal("21000"), filled_at=now)
    closing = FillFactory.create(
        subaccount=sub, contract_id=7, side="Sell", price=Decimal("21002.5"), filled_at=now
    )
    mine, theirs = GroupListener(user.pk), GroupListener(other_user.pk)
    fill_announce(fill_pk=closing.pk, subaccount_pk=sub.pk)
    (frame,) = [f for f in mine.frames() if f["kind"] == "pnl"]
    assert (frame["today_net_text"], frame["today_trades"], frame["today_class"]) == (
        "+$5.00",
        1,
        "pnl-up",
    )
    assert theirs.frames(wait=0.3) == []
