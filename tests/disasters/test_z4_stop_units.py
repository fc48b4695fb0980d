"""Z4 -- stop too tight.

DISASTERS.md row Z4:
    what happened: "stop too tight"
    invariant:     "stops configurable in ticks, points, percent or from the alert's own price"
    proof:         "test"

The stop was a fixed number of ticks, too tight for the instrument, and stopped trades out
on noise. A stop is configurable in ticks, points, percent of the average price or at the
alert's own stop price; each unit gives the price it says, rounded to the tick away from the
entry (never tighter than asked), for the whole position.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine import ES
from trading.brokers.base import Side
from trading.contracts import CONTRACT_SPECS, ContractSpec
from trading.engine import ExitRule
from trading.engine_exits import exits_for
from trading.settings_resolution import DistanceUnit, StopSetting

GC = CONTRACT_SPECS["GC"]


def stop_for(
    stop: StopSetting,
    *,
    position: int,
    net_price: str,
    spec: ContractSpec = ES,
    alert_stop: str | None = None,
) -> tuple[Side, int, Decimal] | None:
    rule = ExitRule(
        take_profits=(),
        stop=stop,
        break_even=None,
        trailing=None,
        multiplier=Decimal(1),
        take_profit_price=None,
        stop_price=None if alert_stop is None else Decimal(alert_stop),
    )
    exits = exits_for(rule=rule, net_pos=position, net_price=Decimal(net_price), spec=spec)
    if exits.stop is None:
        return None
    return exits.stop.side, exits.stop.qty, exits.stop.price


@pytest.mark.parametrize(
    ("stop", "position", "net_price", "spec", "expected"),
    [
        # ticks: ES 40 ticks = 10 points
        (StopSetting(Decimal(40), DistanceUnit.TICKS), 2, "5000", ES, (Side.SELL, 2, Decimal("4990.00"))),
        (StopSetting(Decimal(40), DistanceUnit.TICKS), -2, "5000", ES, (Side.BUY, 2, Decimal("5010.00"))),
        # GC 40 ticks = 4.0 points (a default 0.25 tick would say 10)
        (StopSetting(Decimal(40), DistanceUnit.TICKS), 1, "2400.0", GC, (Side.SELL, 1, Decimal("2396.0"))),
        # points
        (StopSetting(Decimal(15), DistanceUnit.POINTS), 3, "5000", ES, (Side.SELL, 3, Decimal("4985.00"))),
        (StopSetting(Decimal("2.5"), DistanceUnit.POINTS), -1, "2400.0", GC, (Side.BUY, 1, Decimal("2402.5"))),
        # percent of the average price: 0.5% of 5000 = 25 points
        (StopSetting(Decimal("0.5"), DistanceUnit.PERCENT), 1, "5000", ES, (Side.SELL, 1, Decimal("4975.00"))),
        (StopSetting(Decimal("0.5"), DistanceUnit.PERCENT), -4, "5000", ES, (Side.BUY, 4, Decimal("5025.00"))),
        # off-tick average (after DCA): rounded away from the entry, never tighter
        (StopSetting(Decimal(8), DistanceUnit.TICKS), 3, "5001.10", ES, (Side.SELL, 3, Decimal("4999.00"))),
        (StopSetting(Decimal(8), DistanceUnit.TICKS), -3, "5001.10", ES, (Side.BUY, 3, Decimal("5003.25"))),
    ],
    ids=[
        "ticks_long", "ticks_short", "ticks_gc", "points_long", "points_short_gc",
        "percent_long", "percent_short", "off_tick_long", "off_tick_short",
    ],
)  # fmt: skip
def test_each_unit_gives_the_stop_it_says(
    stop: StopSetting,
    position: int,
    net_price: str,
    spec: ContractSpec,
    expected: tuple[Side, int, Decimal],
) -> None:
    assert stop_for(stop, position=position, net_price=net_price, spec=spec) == expected


def test_the_alert_stop_price_is_used_and_rounded_away_from_the_entry() -> None:
    price_stop = StopSetting(Decimal(0), DistanceUnit.PRICE)
    assert stop_for(price_stop, position=2, net_price="5000", alert_stop="4980.10") == (
        Side.SELL,
        2,
        Decimal("4980.00"),
    )
    assert stop_for(price_stop, position=-2, net_price="5000", alert_stop="5020.10") == (
        Side.BUY,
        2,
        Decimal("5020.25"),
    )


def test_an_alert_stop_on_the_wrong_side_or_missing_is_dropped_with_a_note() -> None:
    rule = ExitRule(
        (),
        StopSetting(Decimal(0), DistanceUnit.PRICE),
        None,
        None,
        Decimal(1),
        None,
        Decimal("5010"),
    )
    exits = exits_for(rule=rule, net_pos=1, net_price=Decimal(5000), spec=ES)
    assert exits.stop is None
    assert any("stop dropped" in note for note in exits.notes)
    missing = ExitRule(
        (), StopSetting(Decimal(0), DistanceUnit.PRICE), None, None, Decimal(1), None, None
    )
    exits = exits_for(rule=missing, net_pos=1, net_price=Decimal(5000), spec=ES)
    assert exits.stop is None
    assert any("has none" in note for note in exits.notes)


def test_the_distance_of_a_price_stop_is_ignored() -> None:
    assert stop_for(
        StopSetting(Decimal(4), DistanceUnit.PRICE), position=1, net_price="5000", alert_stop="4900"
    ) == (Side.SELL, 1, Decimal("4900.00"))
