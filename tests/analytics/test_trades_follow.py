"""Live trades follow each new fill at the cost of the last trade only, and always end as the
full rebuild would: random fill sequences (adds, partial closes, reversals, fills at the same
millisecond, a late fill older than the rest) applied one by one, then rebuilt and compared."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from analytics.models import Trade
from analytics.services import trades_follow_fill, trades_rebuild
from tests.factories import FillFactory, SubaccountFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def trade_rows(subaccount_pk: int) -> list[tuple[Any, ...]]:
    return [
        (*row, tuple(sorted(Trade.objects.get(pk=row[0]).fills.values_list("pk", flat=True))))[1:]
        for row in Trade.objects.filter(subaccount_id=subaccount_pk)
        .order_by("opened_at", "id")
        .values_list("pk", "direction", "opened_at", "closed_at", "max_qty", "contracts", "points")
    ]


@pytest.mark.parametrize("seed", range(12))
def test_fills_one_by_one_give_the_trades_of_the_full_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    subaccount = SubaccountFactory.create()
    at, price = T0, Decimal(20000)
    for n in range(30):
        if rng.random() < 0.8:  # some fills share a millisecond
            at += timedelta(seconds=rng.randint(1, 600))
        price += Decimal(rng.randint(-8, 8)) / 4
        when = at - timedelta(hours=3) if n == 25 and seed % 3 == 0 else at  # a late report
        fill = FillFactory.create(
            subaccount=subaccount,
            contract_id=4000,
            side=rng.choice(("Buy", "Sell")),
            qty=rng.randint(1, 3),
            price=price,
            filled_at=when,
        )
        trades_follow_fill(fill_pk=fill.pk)
    followed = trade_rows(subaccount.pk)
    trades_rebuild(subaccount_pk=subaccount.pk, contract_id=4000)
    assert followed == trade_rows(subaccount.pk)
    assert followed  # the sequence made trades


def test_a_fill_after_a_flat_writes_only_the_new_trade(django_assert_max_num_queries: Any) -> None:
    subaccount = SubaccountFactory.create()
    for n in range(40):  # 20 closed trades
        fill = FillFactory.create(
            subaccount=subaccount,
            contract_id=4000,
            side="Buy" if n % 2 == 0 else "Sell",
            filled_at=T0 + timedelta(minutes=n),
        )
        trades_follow_fill(fill_pk=fill.pk)
    assert Trade.objects.filter(subaccount=subaccount, closed_at__isnull=False).count() == 20
    fill = FillFactory.create(
        subaccount=subaccount, contract_id=4000, filled_at=T0 + timedelta(hours=2)
    )
    with django_assert_max_num_queries(16):  # not 20 trades' rows written again
        assert trades_follow_fill(fill_pk=fill.pk) == 1
