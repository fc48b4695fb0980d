"""What a follower should hold: pure, no ORM, no I/O (like trading/engine.py).

A follower is synced by DELTA (D33): its target is derived from the leader's whole net
position, and it is sent only the difference to what it holds. An add on the leader adds on the
follower, a partial close partially closes, a reversal reverses, and a follower already at its
target is sent nothing, however often the same fill is replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from trading.contracts import ContractSymbol, contract_spec, parse_symbol


@dataclass(frozen=True)
class Sizing:
    """A follower's sizing rule: ``fixed_qty`` (the leader's direction, that many contracts)
    wins over ``ratio`` (negative = inverse); ``max_contracts`` caps either (None = no cap)."""

    ratio: Decimal = Decimal(1)
    fixed_qty: int | None = None
    max_contracts: int | None = None


def follower_target(*, leader_net: int, sizing: Sizing) -> int:
    """The follower's target net position for the leader's ``leader_net``.

    Ratio: leader x ratio rounded toward zero (never more than asked: 1 x 0.5 -> 0). Fixed:
    ``fixed_qty`` in the leader's direction, 0 when the leader is flat. The cap keeps the sign."""
    if leader_net == 0:
        return 0
    if sizing.fixed_qty is not None:
        target = sizing.fixed_qty if leader_net > 0 else -sizing.fixed_qty
    else:
        scaled = (Decimal(leader_net) * sizing.ratio).to_integral_value(rounding=ROUND_DOWN)
        target = int(scaled)
    if sizing.max_contracts is not None and abs(target) > sizing.max_contracts:
        target = sizing.max_contracts if target > 0 else -sizing.max_contracts
    return target


def follower_delta(*, target: int, held: int) -> int:
    """Contracts to buy (positive) or sell (negative) to go from ``held`` to ``target``."""
    return target - held


def follower_contract(*, leader_symbol: str, symbol_map: dict[str, str]) -> ContractSymbol:
    """The follower's contract for the leader's: the root mapped (``{"NQ": "MNQ"}``), the same
    month and year. Raises ``ValueError`` (UnknownContractError, InvalidSymbolError) for a
    symbol or mapping it cannot read."""
    leader = parse_symbol(leader_symbol)
    root = symbol_map.get(leader.root, leader.root).strip().upper()
    if root == leader.root:
        return leader
    return ContractSymbol(
        root=root, month_code=leader.month_code, year=leader.year, spec=contract_spec(root)
    )


def reduce_only(*, target: int, held: int) -> int:
    """A disarmed follower's target: toward flat only, never added to or reversed (a target
    beyond what it holds, or on the other side, is cut to what it holds, or to flat)."""
    if held == 0 or target == 0 or (target > 0) != (held > 0):
        return 0
    return target if abs(target) <= abs(held) else held
