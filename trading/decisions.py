"""What the executor decides for one account, and how an account's outcome is finished: shared
by the per-account path (trading/execution.py), the per-login fan-out (trading/fanout.py) and
the preview (trading/preview.py), so each is said once.

Guarantees: the engine (`trading.engine.decide`) is asked in one place, `plan_for`; the
filters' records and today's loss are read only when a setting that uses them is on; an
outcome's failure keeps the exception's type, its words and the broker's (D38).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from trading.alerts import ParsedAlert
from trading.broker_view import SafetyBlock
from trading.brokers.base import Broker, BrokerError
from trading.contracts import ContractSymbol, parse_symbol
from trading.engine import Action, AlertInput, BrokerView, Decision, FilterState, Plan, decide
from trading.models import Signal, SignalOutcome, TraderAccount
from trading.settings_mapping import account_symbol, effective_settings
from trading.settings_resolution import EffectiveSettings

ENTRY_DECISIONS = {Decision.OPEN, Decision.ADD, Decision.REENTER, Decision.REVERSE}

OUTCOME_COLUMNS = [
    f.attname
    for f in SignalOutcome._meta.concrete_fields
    if not f.is_relation and not f.primary_key
]


RUNNABLE = (SignalOutcome.Status.PENDING, SignalOutcome.Status.IN_DOUBT)


def alert_from_signal(signal: Signal) -> ParsedAlert:
    from trading.alerts import parse_alert

    assert signal.parsed is not None
    return parse_alert(signal.parsed["fields"])


def contract_for(*, account: TraderAccount, alert: ParsedAlert) -> ContractSymbol:
    """The contract that trades on ``account`` for ``alert`` (its symbol mapping applied);
    ValueError saying why when there is none."""
    return parse_symbol(account_symbol(account=account, alert=alert))


def outcome_finish(
    outcome: SignalOutcome,
    status: str,
    *,
    error: BaseException | None = None,
    reason: str | None = None,
) -> None:
    """Record how the account's part of the signal ended: the status, the reason and, for a
    failure, the exception's type and words and the broker's own (D38); one save."""
    outcome.status = status
    outcome.finished_at = timezone.now()
    if reason is not None:
        outcome.reason = reason
    if error is not None:
        outcome.error_type = type(error).__name__
        outcome.error_message = str(error)
        if isinstance(error, BrokerError):
            outcome.broker_response = error.broker_text
        if outcome.reason == "":
            outcome.reason = str(error)
    elif status == SignalOutcome.Status.DONE and outcome.in_doubt_since is not None:
        # Settled: the timeout is history, said in words.
        waited = (outcome.finished_at - outcome.in_doubt_since).total_seconds()
        outcome.reason = (
            f"{outcome.reason}; was in doubt ({outcome.error_type}), settled at the broker "
            f"after {outcome.lookups} look-up(s) over {waited:.0f} s"
        )
        outcome.error_type = outcome.error_message = outcome.broker_response = ""
    outcome.save()


def _realized_loss_today(
    broker: Broker, *, outcome: SignalOutcome, settings: EffectiveSettings, action: str
) -> Decimal:
    """Today's realized loss of the account, from the broker, when ``max_daily_loss`` could
    block this signal (entries and adds; a close is never blocked, so nothing is read). Kept in
    the outcome's snapshot so a resumed signal decides as the first run did. Cannot be read ->
    safety block: an unverifiable limit never lets an entry through."""
    if settings.max_daily_loss is None or action == Action.CLOSE:
        return Decimal(0)
    snapshot = outcome.broker_snapshot or {}
    if "realized_loss_today" in snapshot:
        return Decimal(snapshot["realized_loss_today"])
    account_id = outcome.subaccount.broker_account_id
    try:
        pnl = broker.day_pnl(account_id=account_id)
    except BrokerError as exc:
        raise SafetyBlock(f"cannot read today's P&L for max_daily_loss: {exc}") from exc
    outcome.broker_snapshot = {**snapshot, "realized_loss_today": str(pnl.realized_loss)}
    return pnl.realized_loss


def _filters(
    outcome: SignalOutcome,
    *,
    settings: EffectiveSettings,
    realized_loss: Decimal,
    received_at: datetime,
) -> FilterState:
    """What the filters need from our records; read only when a filter that uses it is set.
    "Today" is the day the signal was received in the trader's zone (as the engine judges
    windows and cooldown at receipt), also when it runs or resumes after midnight."""
    if settings.cooldown_seconds is None and settings.max_signals_per_day is None:
        return FilterState(entries_today=0, last_entry_at=None, realized_loss_today=realized_loss)
    zone = ZoneInfo(settings.time_zone)
    start_of_day = received_at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    entries = SignalOutcome.objects.filter(
        trader_account=outcome.trader_account,
        decision__in=[d.value for d in ENTRY_DECISIONS],
        status=SignalOutcome.Status.DONE,
    ).exclude(pk=outcome.pk)
    last = entries.order_by("-decided_at").values_list("decided_at", flat=True).first()
    return FilterState(
        entries_today=entries.filter(decided_at__gte=start_of_day).count(),
        last_entry_at=last,
        realized_loss_today=realized_loss,
    )


def plan_for(
    *,
    outcome: SignalOutcome,
    alert: ParsedAlert,
    view: BrokerView,
    broker: Broker,
    contract: ContractSymbol,
    received_at: datetime | None = None,
) -> Plan:
    """The engine's decision for this account on the broker's ``view`` (the one place the
    executor and the preview ask it)."""
    settings = effective_settings(account=outcome.trader_account, alert=alert)
    at = received_at or outcome.signal.received_at
    return decide(
        alert=AlertInput(
            action=Action(alert.action),
            quantity=alert.quantity,
            price=alert.price,
            take_profit_price=alert.take_profit_price,
            stop_price=alert.stop_price,
            received_at=at,
        ),
        settings=settings,
        broker=view,
        filters=_filters(
            outcome,
            settings=settings,
            realized_loss=_realized_loss_today(
                broker, outcome=outcome, settings=settings, action=alert.action
            ),
            received_at=at,
        ),
        spec=contract.spec,
    )


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "decision": plan.decision.value,
        "reason": plan.reason,
        "cancel_order_ids": list(plan.cancel_order_ids),
        "flatten": plan.flatten,
        "entry": None
        if plan.entry is None
        else {"side": plan.entry.side.value, "qty": plan.entry.qty},
        "target_position": plan.target_position,
    }


def outcome_safety_block(outcome: SignalOutcome, exc: SafetyBlock) -> None:
    """Nothing was placed: the broker's state could not be verified (Z2, Z3), said with why."""
    outcome_finish(
        outcome,
        SignalOutcome.Status.SAFETY_BLOCK,
        error=exc.__cause__ or exc,
        reason=f"safety block: cannot verify position — {exc}",
    )
