"""Property tests of the decision engine (hypothesis).

Any sequence of alerts (BUY / SELL / CLOSE, random quantities) under random settings
(multipliers 0, 0.5, 1, 3, 10; max_contracts None or small; every same/opposite setting;
up to 5 take-profit levels in contracts and percent; stops in every unit) is applied to a
simulated broker: cancels, flatten -> 0, entry -> +/- qty, then `exits_for` from an average
price that is usually off the tick (as after a DCA add, D07). After every step:

- |position| <= max_contracts (when set) and the position is the plan's target;
- exactly one set of exits is working: every plan that moves the position cancels every
  working order first (D29), and a plan that does not cancels nothing;
- take-profit quantities sum to |position| exactly and the stop is for |position| (D18);
- every price is a tick multiple (D07), take-profits on the profitable side, stops on the
  losing side (Z4);
- CLOSE never increases |position| (D46, D48);
- the entry quantity is exactly (size or alert quantity, at most alert_quantity_max) x
  multiplier, rounded half up and capped -- so 0 is 0, never "unset" (D41), and no cap of the
  user's exists unless set (D37);
- no entry is ever larger than the platform's safety ceiling (issue 9): one that would be is
  refused and the reason names the ceiling and its variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine import NO_FILTERS, make_alert
from trading.brokers.base import Side, WorkingOrder
from trading.contracts import CONTRACT_SPECS, ContractSpec, is_on_tick
from trading.engine import (
    Action,
    BrokerView,
    Decision,
    ExitRule,
    Plan,
    decide,
)
from trading.engine_exits import ExitOrders, exits_for
from trading.settings_resolution import (
    DirectionFilter,
    DistanceUnit,
    EffectiveSettings,
    OppositeDirection,
    QtyCeiling,
    QtyUnit,
    SameDirection,
    StopSetting,
    TakeProfitLevel,
)

SPECS = [CONTRACT_SPECS[root] for root in ("ES", "MES", "YM", "GC", "ZB", "6J", "NG")]
MULTIPLIERS = [Decimal(0), Decimal("0.5"), Decimal(1), Decimal(3), Decimal(10)]

specs = st.sampled_from(SPECS)
# Distances: the edge values (0, under a tick, a tick) as often as ordinary ones.
small_decimals = st.sampled_from(
    [Decimal(0), Decimal("0.1"), Decimal("0.5"), Decimal(1), Decimal("0.25")]
) | st.builds(
    lambda whole, tenths: Decimal(whole) + Decimal(tenths) / 10,
    st.integers(0, 40),
    st.sampled_from([0, 0, 5, 3]),
)

take_profit_levels = st.builds(
    TakeProfitLevel,
    distance=small_decimals,
    unit=st.sampled_from(list(DistanceUnit)),
    qty=st.one_of(
        st.integers(0, 4).map(Decimal), st.sampled_from([Decimal("0.5"), Decimal("1.5")])
    ),
    qty_unit=st.just(QtyUnit.CONTRACTS),
) | st.builds(
    TakeProfitLevel,
    distance=small_decimals,
    unit=st.sampled_from(list(DistanceUnit)),
    qty=st.sampled_from([Decimal(0), Decimal(20), Decimal(25), Decimal("33.3"), Decimal(50)])
    | st.integers(0, 100).map(Decimal),
    qty_unit=st.just(QtyUnit.PERCENT),
)

stop_settings = st.none() | st.builds(
    StopSetting, distance=small_decimals, unit=st.sampled_from(list(DistanceUnit))
)

effective_settings = st.builds(
    EffectiveSettings,
    # Weighted towards orders actually going out, so adds and caps are exercised often;
    # the zeros (size, multiplier, cap) still come up in a good share of examples.
    entry_size=st.sampled_from([1, 1, 2, 3, 4, 0]),
    add_size=st.sampled_from([1, 1, 2, 3, 0]),
    use_alert_quantity=st.booleans(),
    multiplier=st.sampled_from(
        [Decimal(1), Decimal(1), Decimal(3), Decimal("0.5"), Decimal(10), Decimal(0)]
    ),
    max_contracts=st.sampled_from([3, None, 2, None, 5, None, 1, 8, 0]),
    alert_quantity_max=st.sampled_from([None, None, 1, 3, 40]),
    order_qty_ceiling=st.sampled_from(
        [QtyCeiling(), QtyCeiling(), QtyCeiling(4, "ES"), QtyCeiling(2, "MES", "X_BY_ROOT")]
    ),
    take_profits=st.lists(take_profit_levels, min_size=1, max_size=5).map(tuple) | st.just(()),
    stop=stop_settings,
    on_same_direction=st.sampled_from(
        [SameDirection.ADD, SameDirection.REENTER, SameDirection.ADD, SameDirection.IGNORE]
    ),
    on_opposite_direction=st.sampled_from(list(OppositeDirection)),
    invert_signals=st.booleans(),
    direction_filter=st.sampled_from(
        [DirectionFilter.BOTH, DirectionFilter.BOTH, *DirectionFilter]
    ),
)


@dataclass(frozen=True)
class Step:
    action: Action
    quantity: Decimal | None
    take_profit_offset: Decimal | None  # alert's take-profit price = net price + this
    stop_offset: Decimal | None
    average_offset: Decimal  # the broker's average after the fill = 5000 + this


steps = st.builds(
    Step,
    action=st.sampled_from([Action.BUY, Action.SELL, Action.BUY, Action.SELL, Action.CLOSE]),
    quantity=st.none()
    | st.sampled_from([Decimal(1), Decimal(2), Decimal("0.5"), Decimal(0), Decimal(10_000)]),
    take_profit_offset=st.none() | st.integers(-20, 20).map(lambda n: Decimal(n) / 4),
    stop_offset=st.none() | st.integers(-20, 20).map(lambda n: Decimal(n) / 4),
    # Hundredths and thirds-ish: mostly off the tick, like a broker's average after a DCA add.
    average_offset=st.integers(-3000, 3000).map(lambda n: Decimal(n) / 137),
)


def expected_qty(size: int, s: EffectiveSettings, alert_qty: Decimal | None) -> int:
    """Size (or the alert's quantity, at most alert_quantity_max) x multiplier, half up."""
    base = Decimal(size)
    if s.use_alert_quantity and alert_qty is not None:
        base = alert_qty
        if s.alert_quantity_max is not None:
            base = min(base, Decimal(s.alert_quantity_max))
    return int((base * s.multiplier).to_integral_value(rounding=ROUND_HALF_UP))


def check_exits(
    exits: ExitOrders, *, position: int, net_price: Decimal, spec: ContractSpec
) -> None:
    size = abs(position)
    long = position > 0
    exit_side = Side.SELL if long else Side.BUY
    if exits.take_profits:
        assert sum(tp.qty for tp in exits.take_profits) == size, exits
    for tp in exits.take_profits:
        assert tp.qty > 0
        assert tp.side is exit_side
        assert is_on_tick(tp.price, spec), tp
        assert abs(tp.price - net_price) >= spec.tick_size, (tp, net_price)
        assert (tp.price > net_price) if long else (tp.price < net_price), (tp, net_price)
    if exits.stop is not None:
        assert exits.stop.qty == size
        assert exits.stop.side is exit_side
        assert is_on_tick(exits.stop.price, spec)
        assert (exits.stop.price <= net_price) if long else (exits.stop.price >= net_price)
        assert exits.stop.price > 0


def working_from(exits: ExitOrders, first_id: int) -> tuple[WorkingOrder, ...]:
    orders = [*exits.take_profits, *([exits.stop] if exits.stop is not None else [])]
    return tuple(
        WorkingOrder(
            order_id=first_id + i,
            account_id=1,
            contract_id=1,
            symbol="X",
            side=order.side,
            status="Working",
            order_type="Limit",
            qty=order.qty,
            price=order.price,
            stop_price=None,
        )
        for i, order in enumerate(orders)
    )


def check_quantity(plan: Plan, s: EffectiveSettings, position: int, step: Step) -> None:
    """The entry quantity is exactly what the settings say: 0 is 0, no invented cap."""
    if plan.entry is None:
        return
    adding = plan.decision is Decision.ADD
    wanted = expected_qty(s.add_size if adding else s.entry_size, s, step.quantity)
    assert wanted > 0, "a quantity of 0 must never become an order (D41)"
    if s.max_contracts is None:
        assert plan.entry.qty == wanted, "no cap unless max_contracts is set (D37)"
    else:
        room = s.max_contracts - (abs(position) if adding else 0)
        assert plan.entry.qty == min(wanted, room)
    assert plan.entry.qty <= s.order_qty_ceiling.contracts, "over the platform's ceiling"


def check_ceiling(plan: Plan, s: EffectiveSettings, position: int, step: Step) -> None:
    """An entry the settings size over the platform's ceiling is refused, saying so."""
    if step.action is Action.CLOSE or plan.decision not in (
        Decision.BLOCKED,
        Decision.CLOSE_OPPOSITE,
    ):
        return
    if "safety ceiling" in plan.reason:
        ceiling = s.order_qty_ceiling
        assert f"ceiling of {ceiling.contracts} per order" in plan.reason
        assert ceiling.source in plan.reason
        assert plan.entry is None


@settings(max_examples=150, deadline=None)
@given(s=effective_settings, spec=specs, sequence=st.lists(steps, min_size=1, max_size=10))
def test_any_alert_sequence_keeps_the_invariants(
    s: EffectiveSettings, spec: ContractSpec, sequence: list[Step]
) -> None:
    position = 0
    working: tuple[WorkingOrder, ...] = ()
    next_id = 1
    for step in sequence:
        base = Decimal(5000)
        alert = make_alert(
            step.action,
            quantity=step.quantity,
            take_profit_price=None
            if step.take_profit_offset is None
            else base + step.take_profit_offset,
            stop_price=None if step.stop_offset is None else base + step.stop_offset,
        )
        broker = BrokerView(
            net_pos=position,
            net_price=None if position == 0 else base,
            working_orders=working,
            last_price=base,
        )
        plan = decide(alert=alert, settings=s, broker=broker, filters=NO_FILTERS, spec=spec)

        assert plan.reason.strip() != ""
        moves = plan.flatten or plan.entry is not None
        assert plan.cancel_order_ids == (tuple(o.order_id for o in working) if moves else ())
        check_quantity(plan, s, position, step)
        check_ceiling(plan, s, position, step)
        if plan.entry is not None:
            assert plan.entry.qty <= s.order_qty_ceiling.contracts
        if s.max_contracts == 0:
            assert plan.entry is None
        if step.action is Action.CLOSE:
            assert plan.entry is None, "CLOSE is never an entry (D46)"
        if plan.decision in (Decision.IGNORED, Decision.BLOCKED, Decision.ZERO_QUANTITY):
            assert not moves

        before = position
        if plan.cancel_order_ids:
            working = tuple(o for o in working if o.order_id not in plan.cancel_order_ids)
        if plan.flatten:
            position = 0
            assert working == ()
        if plan.entry is not None:
            assert working == (), "exits are cancelled before an entry: never stacked (D29)"
            position += plan.entry.qty if plan.entry.side is Side.BUY else -plan.entry.qty
        assert position == plan.target_position

        if step.action is Action.CLOSE:
            assert abs(position) <= abs(before)
        if s.max_contracts is not None:
            assert abs(position) <= s.max_contracts
        if s.direction_filter is DirectionFilter.LONG_ONLY:
            assert position >= 0
        if s.direction_filter is DirectionFilter.SHORT_ONLY:
            assert position <= 0

        if plan.exits is not None:
            net_price = base + step.average_offset
            exits = exits_for(rule=plan.exits, net_pos=position, net_price=net_price, spec=spec)
            check_exits(exits, position=position, net_price=net_price, spec=spec)
            working = working_from(exits, next_id)
            next_id += len(working)


@settings(max_examples=100, deadline=None)
@given(
    cap=st.integers(0, 6),
    entry_size=st.integers(0, 4),
    add_size=st.integers(0, 4),
    multiplier=st.sampled_from(MULTIPLIERS),
    signals=st.integers(1, 8),
    side=st.sampled_from([Action.BUY, Action.SELL]),
)
def test_repeated_adds_stop_at_max_contracts(
    cap: int, entry_size: int, add_size: int, multiplier: Decimal, signals: int, side: Action
) -> None:
    """DCA under a cap: the last add is reduced to the room left, then BLOCKED at the cap."""
    s = EffectiveSettings(
        entry_size=entry_size,
        add_size=add_size,
        multiplier=multiplier,
        max_contracts=cap,
        on_same_direction=SameDirection.ADD,
    )
    position = 0
    for _ in range(signals):
        broker = BrokerView(
            net_pos=position,
            net_price=None if position == 0 else Decimal(5000),
            working_orders=(),
            last_price=Decimal(5000),
        )
        plan = decide(
            alert=make_alert(side), settings=s, broker=broker, filters=NO_FILTERS, spec=SPECS[0]
        )
        check_quantity(plan, s, position, Step(side, None, None, None, Decimal(0)))
        if plan.entry is not None:
            position += plan.entry.qty if plan.entry.side is Side.BUY else -plan.entry.qty
        assert position == plan.target_position
        assert abs(position) <= cap
        at_cap = abs(position) == cap and position != 0
        if at_cap and plan.entry is None and expected_qty(add_size, s, None) > 0:
            assert plan.decision is Decision.BLOCKED
            assert "max contracts" in plan.reason


rules = st.builds(
    ExitRule,
    take_profits=st.lists(take_profit_levels, max_size=5).map(tuple),
    stop=stop_settings,
    break_even=st.none(),
    trailing=st.none(),
    multiplier=st.sampled_from(MULTIPLIERS),
    take_profit_price=st.none() | st.integers(19000, 21000).map(lambda n: Decimal(n) / 4),
    stop_price=st.none() | st.integers(19000, 21000).map(lambda n: Decimal(n) / 4),
)


@settings(max_examples=300, deadline=None)
@given(
    rule=rules,
    spec=specs,
    position=st.integers(-40, 40).filter(lambda n: n != 0),
    net_price=st.integers(4_900_000, 5_100_000).map(lambda n: Decimal(n) / 1000),
)
def test_exits_for_any_position_sum_to_it_on_tick_on_the_right_side(
    rule: ExitRule, spec: ContractSpec, position: int, net_price: Decimal
) -> None:
    exits = exits_for(rule=rule, net_pos=position, net_price=net_price, spec=spec)
    check_exits(exits, position=position, net_price=net_price, spec=spec)
    if rule.stop is not None and rule.stop.unit is not DistanceUnit.PRICE:
        assert exits.stop is not None, exits.notes
    priced_levels = [
        level
        for level in rule.take_profits
        if level.unit is not DistanceUnit.PRICE or rule.take_profit_price is not None
    ]
    if priced_levels and all(level.unit is not DistanceUnit.PRICE for level in priced_levels):
        assert exits.take_profits, "levels computed from distances always give take-profits"


@settings(max_examples=100, deadline=None)
@given(
    levels=st.lists(st.integers(0, 5).map(Decimal), min_size=1, max_size=5),
    multiplier=st.sampled_from(MULTIPLIERS[1:]),
    position=st.integers(1, 60),
)
def test_contract_levels_scale_with_the_multiplier_until_the_position_runs_out(
    levels: list[Decimal], multiplier: Decimal, position: int
) -> None:
    """D18: each level but the last is qty x multiplier (capped by what is left)."""
    rule = ExitRule(
        take_profits=tuple(
            TakeProfitLevel(Decimal(4 * (i + 1)), DistanceUnit.TICKS, qty, QtyUnit.CONTRACTS)
            for i, qty in enumerate(levels)
        ),
        stop=None,
        break_even=None,
        trailing=None,
        multiplier=multiplier,
        take_profit_price=None,
        stop_price=None,
    )
    exits = exits_for(
        rule=rule, net_pos=position, net_price=Decimal(5000), spec=CONTRACT_SPECS["ES"]
    )
    remaining = position
    expected: list[int] = []
    for i, qty in enumerate(levels):
        if i == len(levels) - 1:
            want = remaining
        else:
            want = min(int((qty * multiplier).to_integral_value(ROUND_HALF_UP)), remaining)
        if want > 0:
            expected.append(want)
            remaining -= want
    assert [tp.qty for tp in exits.take_profits] == expected
    assert sum(expected) == position


@pytest.mark.parametrize(
    "build",
    [
        lambda: replace(EffectiveSettings(), multiplier=0.5),  # type: ignore[arg-type]
        lambda: make_alert(Action.BUY, price=5000.25),  # type: ignore[arg-type]
        lambda: TakeProfitLevel(2.0, DistanceUnit.TICKS, Decimal(1), QtyUnit.CONTRACTS),  # type: ignore[arg-type]
        lambda: exits_for(
            rule=ExitRule((), None, None, None, Decimal(1), None, None),
            net_pos=1,
            net_price=5000.25,  # type: ignore[arg-type]
            spec=CONTRACT_SPECS["ES"],
        ),
    ],
    ids=["multiplier", "alert_price", "take_profit_distance", "net_price"],
)
def test_floats_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="float"):
        build()
