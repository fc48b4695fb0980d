"""D41 -- falsy 0 in position sizing.

DISASTERS.md row D41:
    what happened: "falsy 0 in position sizing"
    invariant:     "no truthiness tests on numbers; 0 means 0"
    proof:         "property test"

Sizing code wrote ``qty = alert_qty or default_size``: an explicit 0 became the default and an
order went out. Here 0 -- an entry size, an add size, an alert quantity the trader takes, a
multiplier, a cap -- means no order, said so (ZERO_QUANTITY, or BLOCKED for a cap of 0), and a
filter of 0 is a filter of 0 (a cooldown of 0 s never blocks; 0 signals a day blocks all).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine import ES, NO_FILTERS, NOON_UTC, make_alert, make_broker
from trading.engine import Action, Decision, FilterState, decide
from trading.settings_resolution import EffectiveSettings, SameDirection

quantities = st.sampled_from([Decimal(0), Decimal("0.4"), Decimal("0.5"), Decimal(1), Decimal(3)])
multipliers = st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.5"), Decimal(1), Decimal(3)])


@settings(max_examples=200, deadline=None)
@given(
    entry_size=st.integers(0, 3),
    add_size=st.integers(0, 3),
    use_alert_quantity=st.booleans(),
    alert_qty=st.none() | quantities,
    multiplier=multipliers,
    position=st.integers(-3, 3),
    action=st.sampled_from([Action.BUY, Action.SELL]),
)
def test_the_quantity_is_exactly_size_times_multiplier_and_zero_is_no_order(
    entry_size: int,
    add_size: int,
    use_alert_quantity: bool,
    alert_qty: Decimal | None,
    multiplier: Decimal,
    position: int,
    action: Action,
) -> None:
    s = EffectiveSettings(
        entry_size=entry_size,
        add_size=add_size,
        use_alert_quantity=use_alert_quantity,
        multiplier=multiplier,
        on_same_direction=SameDirection.ADD,
    )
    plan = decide(
        alert=make_alert(action, quantity=alert_qty),
        settings=s,
        broker=make_broker(position),
        filters=NO_FILTERS,
        spec=ES,
    )
    adding = position != 0 and (position > 0) == (action is Action.BUY)
    size = add_size if adding else entry_size
    base = alert_qty if use_alert_quantity and alert_qty is not None else Decimal(size)
    wanted = int((base * multiplier).to_integral_value(rounding=ROUND_HALF_UP))
    if wanted == 0:
        assert plan.entry is None
        assert plan.decision in (Decision.ZERO_QUANTITY, Decision.CLOSE_OPPOSITE)
        assert "0" in plan.reason
    else:
        assert plan.entry is not None
        assert plan.entry.qty == wanted


def test_an_alert_quantity_of_zero_is_not_replaced_by_the_size() -> None:
    plan = decide(
        alert=make_alert(Action.BUY, quantity=Decimal(0)),
        settings=EffectiveSettings(entry_size=3, use_alert_quantity=True),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.ZERO_QUANTITY
    assert plan.entry is None
    assert plan.cancel_order_ids == ()


def test_a_multiplier_of_zero_places_nothing() -> None:
    plan = decide(
        alert=make_alert(Action.SELL),
        settings=EffectiveSettings(entry_size=3, multiplier=Decimal(0)),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.ZERO_QUANTITY


def test_a_cap_of_zero_blocks_every_entry() -> None:
    plan = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(entry_size=3, max_contracts=0),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert plan.decision is Decision.BLOCKED
    assert plan.entry is None


def test_a_cooldown_of_zero_never_blocks_and_zero_signals_a_day_blocks_all() -> None:
    just_now = FilterState(entries_today=0, last_entry_at=NOON_UTC, realized_loss_today=Decimal(0))
    open_ = decide(
        alert=make_alert(Action.BUY, received_at=NOON_UTC + timedelta(microseconds=1)),
        settings=EffectiveSettings(cooldown_seconds=0),
        broker=make_broker(0),
        filters=just_now,
        spec=ES,
    )
    assert open_.decision is Decision.OPEN
    blocked = decide(
        alert=make_alert(Action.BUY),
        settings=EffectiveSettings(max_signals_per_day=0),
        broker=make_broker(0),
        filters=NO_FILTERS,
        spec=ES,
    )
    assert blocked.decision is Decision.BLOCKED
    assert "max_signals_per_day=0" in blocked.reason
