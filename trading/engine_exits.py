"""Where exits go: take-profit and stop prices for a position, on tick (ENGINE.md).

After the entry has filled, the executor reads the broker's new position and calls `exits_for`,
which prices the exits for the **whole** position from the broker's average price (D17, D29):
take-profit quantities scale with the multiplier and sum to the position (D18), every price is
a tick multiple computed with `Decimal` (D07), stops come from ticks, points, percent or the
alert's own price (Z4). Pure, like `trading.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from trading.brokers.base import Side
from trading.contracts import ContractSpec, round_to_tick
from trading.engine import _PRECISION, ExitRule, _int, _price
from trading.settings_resolution import DistanceUnit, QtyUnit, StopSetting, TakeProfitLevel

__all__ = ["ExitOrder", "ExitOrders", "exits_for"]


@dataclass(frozen=True)
class ExitOrder:
    side: Side
    qty: int
    price: Decimal


@dataclass(frozen=True)
class ExitOrders:
    take_profits: tuple[ExitOrder, ...]
    stop: ExitOrder | None
    notes: tuple[str, ...] = ()  # why a level or the stop was dropped, in words


def _offset(
    distance: Decimal, unit: DistanceUnit, net_price: Decimal, spec: ContractSpec
) -> Decimal:
    if unit is DistanceUnit.TICKS:
        return distance * spec.tick_size
    if unit is DistanceUnit.POINTS:
        return distance
    if unit is DistanceUnit.PERCENT:
        return abs(net_price) * distance / 100
    raise ValueError(
        f"{unit} is not a distance unit"
    )  # pragma: no cover - PRICE handled by callers


def _take_profit_price(
    level: TakeProfitLevel,
    *,
    number: int,
    long: bool,
    net_price: Decimal,
    alert_price: Decimal | None,
    spec: ContractSpec,
) -> Decimal | str:
    """The level's price (away from the entry, at least one tick), or why it is dropped."""
    if level.unit is DistanceUnit.PRICE:
        if alert_price is None:
            return f"take-profit {number} dropped: it uses the alert's price and the alert has none"
        if (long and alert_price <= net_price) or (not long and alert_price >= net_price):
            return (
                f"take-profit {number} dropped: the alert's price {alert_price} is not "
                f"{'above' if long else 'below'} the {'long' if long else 'short'}'s average "
                f"price {net_price}"
            )
        target = alert_price
    else:
        offset = _offset(level.distance, level.unit, net_price, spec)
        target = net_price + offset if long else net_price - offset
    if long:
        price = round_to_tick(max(target, net_price + spec.tick_size), spec, direction="up")
    else:
        price = round_to_tick(min(target, net_price - spec.tick_size), spec, direction="down")
    if price <= 0:
        return f"take-profit {number} dropped: its price {price} is not above 0"
    return price


def _stop_price(
    stop: StopSetting,
    *,
    long: bool,
    net_price: Decimal,
    alert_price: Decimal | None,
    spec: ContractSpec,
) -> Decimal | str:
    """The stop's price (rounded away from the entry), or why there is none."""
    if stop.unit is DistanceUnit.PRICE:
        if alert_price is None:
            return "stop dropped: it uses the alert's stop price and the alert has none"
        target = alert_price
    else:
        offset = _offset(stop.distance, stop.unit, net_price, spec)
        target = net_price - offset if long else net_price + offset
    price = round_to_tick(target, spec, direction="down" if long else "up")
    if (long and price > net_price) or (not long and price < net_price):
        return (
            f"stop dropped: its price {price} is on the profitable side of the "
            f"{'long' if long else 'short'}'s average price {net_price}"
        )
    if price <= 0:
        return f"stop dropped: its price {price} is not above 0"
    return price


def _level_qty(level: TakeProfitLevel, *, size: int, multiplier: Decimal) -> int:
    if level.qty_unit is QtyUnit.PERCENT:
        wanted = Decimal(size) * level.qty / 100
    else:
        wanted = level.qty * multiplier
    return int(wanted.to_integral_value(rounding=ROUND_HALF_UP))


def exits_for(
    *, rule: ExitRule, net_pos: int, net_price: Decimal, spec: ContractSpec
) -> ExitOrders:
    """Exits for the whole broker position ``net_pos`` from its average price ``net_price``.

    Guarantees: the stop (if any) is for ``|net_pos|`` contracts; the take-profit quantities sum
    to ``|net_pos|`` exactly (contract levels x multiplier, percent levels of the position,
    rounded half up, each capped by what is left, the last level takes the remainder, levels of
    0 are dropped; D18); every price is a tick multiple (D07); take-profits are at least one
    tick on the profitable side, rounded away from the entry; the stop is on the losing side
    (or at the average price), rounded away from the entry (Z4). A level or stop that cannot be
    priced (wrong side, no alert price) is dropped and ``notes`` says why.
    """
    _int(net_pos, "net_pos")
    _price(net_price, "net_price", optional=False)
    if net_pos == 0:
        return ExitOrders(take_profits=(), stop=None, notes=("flat: no exits",))
    size = abs(net_pos)
    long = net_pos > 0
    side = Side.SELL if long else Side.BUY
    notes: list[str] = []
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        priced: list[tuple[TakeProfitLevel, Decimal]] = []
        for number, level in enumerate(rule.take_profits, start=1):
            price = _take_profit_price(
                level,
                number=number,
                long=long,
                net_price=net_price,
                alert_price=rule.take_profit_price,
                spec=spec,
            )
            if isinstance(price, str):
                notes.append(price)
            else:
                priced.append((level, price))

        take_profits: list[ExitOrder] = []
        remaining = size
        for index, (level, price) in enumerate(priced):
            if index == len(priced) - 1:
                qty = remaining  # the last level takes the remainder
            else:
                qty = min(_level_qty(level, size=size, multiplier=rule.multiplier), remaining)
            if qty <= 0:
                notes.append(f"a take-profit at {price} dropped: its quantity is 0")
                continue
            take_profits.append(ExitOrder(side=side, qty=qty, price=price))
            remaining -= qty

        stop: ExitOrder | None = None
        if rule.stop is not None:
            stop_price = _stop_price(
                rule.stop, long=long, net_price=net_price, alert_price=rule.stop_price, spec=spec
            )
            if isinstance(stop_price, str):
                notes.append(stop_price)
            else:
                stop = ExitOrder(side=side, qty=size, price=stop_price)
    return ExitOrders(take_profits=tuple(take_profits), stop=stop, notes=tuple(notes))
