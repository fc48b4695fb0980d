"""Moving a stop: break-even and trailing, for the position monitor (ENGINE.md).

Pure, like `trading.engine`: `stop_adjustment` answers where the stop of an open position
belongs at a price, or None to leave it alone.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from trading.contracts import ContractSpec, round_to_tick
from trading.engine import _PRECISION, _price
from trading.settings_resolution import BreakEven, Trailing

__all__ = ["stop_adjustment"]


def stop_adjustment(
    *,
    side_long: bool,
    net_price: Decimal,
    current_stop: Decimal,
    last_price: Decimal,
    initial_stop: Decimal,
    break_even: BreakEven | None,
    trailing: Trailing | None,
    spec: ContractSpec,
) -> Decimal | None:
    """Where the stop of an open position belongs now, or None to leave it where it is.

    Break-even: once ``last_price`` is ``trigger_ticks`` or more beyond the average entry price
    ``net_price`` in the position's favour, the stop goes to entry + ``offset_ticks`` (in the
    favour direction; 0 or negative allowed). Trailing: once the price is ``trigger_ticks``
    beyond entry, the stop follows the price at the initial stop's distance from entry, in
    whole steps of ``step_ticks`` (0 = one tick), counted from ``initial_stop``: stateless, so
    the same price always gives the same stop. Both set: the tighter of the two.

    Guarantees: the result is a tick multiple above 0, strictly tighter than ``current_stop``
    (a stop never loosens), and at least one tick from ``last_price`` on the losing side
    (never through the price); asking again with the result as ``current_stop`` and the same
    price gives None.
    """
    if not isinstance(side_long, bool):
        raise TypeError(f"side_long must be a bool, got {type(side_long).__name__}")
    for name, value in (
        ("net_price", net_price),
        ("current_stop", current_stop),
        ("last_price", last_price),
        ("initial_stop", initial_stop),
    ):
        _price(value, name, optional=False)
    if break_even is not None and not isinstance(break_even, BreakEven):
        raise TypeError(f"break_even must be a BreakEven, got {type(break_even).__name__}")
    if trailing is not None and not isinstance(trailing, Trailing):
        raise TypeError(f"trailing must be a Trailing, got {type(trailing).__name__}")
    sign = 1 if side_long else -1
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        tick = spec.tick_size
        gained = (last_price - net_price) * sign  # how far the price is beyond entry, in favour
        candidates: list[Decimal] = []
        if break_even is not None and gained >= break_even.trigger_ticks * tick:
            candidates.append(net_price + sign * break_even.offset_ticks * tick)
        if trailing is not None and gained >= trailing.trigger_ticks * tick:
            step = max(trailing.step_ticks, 1) * tick
            steps = gained // step  # whole steps; gained >= 0 here, so // is the floor
            candidates.append(initial_stop + sign * steps * step)
        # Rounded away from the favour (an average price between ticks gives the safer stop).
        candidates = [
            round_to_tick(c, spec, direction="down" if side_long else "up") for c in candidates
        ]
        if not candidates:
            return None
        if side_long:
            best = min(max(candidates), round_to_tick(last_price - tick, spec, direction="down"))
            moved = best > current_stop
        else:
            best = max(min(candidates), round_to_tick(last_price + tick, spec, direction="up"))
            moved = best < current_stop
    if not moved or best <= 0:
        return None
    return best
