"""Preview an alert: for each of the user's accounts following a strategy, the broker's
position now, the engine's decision and the orders it would send. Nothing is sent or written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from trading.alerts import ParsedAlert
from trading.broker_view import SafetyBlock, account_read
from trading.brokers.base import BrokerError
from trading.brokers.services import broker_for
from trading.contracts import parse_symbol
from trading.decisions import plan_for
from trading.engine import Plan
from trading.execution import acting_accounts
from trading.models import SignalOutcome, Strategy, TraderAccount
from trading.settings_mapping import account_symbol


@dataclass(frozen=True)
class Preview:
    """One account's answer to "what would this alert do now?", read from its broker."""

    account: TraderAccount
    symbol: str = ""
    position: int | None = None  # at the broker, now
    decision: str = ""
    reason: str = ""
    steps: tuple[str, ...] = ()  # what would be sent, in order
    error: str = ""  # why the account could not be previewed (the broker's words)


def _exit_words(plan: Plan) -> str:
    rule = plan.exits
    if rule is None:
        return ""

    def num(value: Decimal) -> str:
        return f"{value.normalize():f}"

    parts = [
        f"take-profit {num(lvl.distance)} {lvl.unit.value} x {num(lvl.qty)} {lvl.qty_unit.value}"
        for lvl in rule.take_profits
    ]
    if rule.stop is not None:
        parts.append(f"stop {num(rule.stop.distance)} {rule.stop.unit.value}")
    if rule.break_even is not None:
        parts.append(
            f"break-even at {rule.break_even.trigger_ticks} ticks "
            f"({rule.break_even.offset_ticks:+d})"
        )
    if rule.trailing is not None:
        parts.append(
            f"trailing from {rule.trailing.trigger_ticks} ticks, "
            f"steps of {rule.trailing.step_ticks}"
        )
    return "exits from the fill price: " + (", ".join(parts) if parts else "none")


def signal_preview(*, strategy: Strategy, user: Any, alert: ParsedAlert) -> list[Preview]:
    """For each of ``user``'s enabled accounts following ``strategy``: read the broker, ask the
    engine, and say what would be sent. Places nothing, writes nothing."""
    accounts = acting_accounts(strategy).filter(trader__user=user)
    now = timezone.now()
    result = []
    for account in accounts:
        try:
            result.append(_preview_one(account=account, alert=alert, now=now))
        except (BrokerError, SafetyBlock, ValueError) as exc:
            result.append(Preview(account=account, error=str(exc) or type(exc).__name__))
    return result


def _preview_one(*, account: TraderAccount, alert: ParsedAlert, now: datetime) -> Preview:
    contract = parse_symbol(account_symbol(account=account, alert=alert))
    symbol = contract.tradovate_name
    unsaved = SignalOutcome(trader_account=account, subaccount=account.subaccount, symbol=symbol)
    broker = broker_for(connection=account.subaccount.connection)
    try:
        view, _ = account_read(
            broker, account_id=account.subaccount.broker_account_id, symbol=symbol
        )
        plan = plan_for(
            outcome=unsaved,
            alert=alert,
            view=view,
            broker=broker,
            contract=contract,
            received_at=now,
        )
    finally:
        broker.close()
    steps = []
    if plan.cancel_order_ids:
        steps.append(f"cancel {len(plan.cancel_order_ids)} working order(s) of {symbol}")
    if plan.flatten:
        steps.append(f"close the position of {view.net_pos} at market")
    if plan.entry is not None:
        steps.append(f"{plan.entry.side.value} {plan.entry.qty} {symbol} at market")
        steps.append(_exit_words(plan))
    return Preview(
        account=account,
        symbol=symbol,
        position=view.net_pos,
        decision=plan.decision.value,
        reason=plan.reason,
        steps=tuple(steps),
    )
