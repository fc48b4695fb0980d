"""Executing a signal: every enabled trader account, concurrently, exactly once.

A signal's fresh outcomes go through the fan-out per broker login (trading/fanout.py; a large
signal in chunks by login, run by several worker processes); what the fan-out hands back, and
every resumed or in-doubt outcome, runs here one account at a time on its own thread, with the
same guarantees.

Guarantees (DESIGN.md §5):
- one account's failure never stops another (D04); each gets a SignalOutcome with the
  decision, the reason and, on failure, the exception type and the broker's words (D38);
- work on one (subaccount, symbol) is serialized by a PostgreSQL advisory lock;
- the broker's position and working orders are read first; if they cannot be read nothing is
  placed: "safety block" (Z2, Z3);
- every order has a deterministic clOrdId and an Order row written (committed) before the
  call (trading/orders.py); a crashed execution resumes from the stored broker snapshot and
  never re-sends an order the broker already has (its clOrdId) — no duplicate after a SIGKILL;
- an order call that goes unanswered puts the outcome "in doubt", never "failed": it is looked
  up until the broker says and then finished from its stored decision (trading/in_doubt.py);
- exits are cancelled before new ones are placed: one set of exits per subaccount+symbol (D29).

Reads of the broker live in trading/broker_view.py, order rows and calls in trading/orders.py,
the decision in trading/decisions.py, the lock in trading/position_lock.py and the preview
(nothing sent) in trading/preview.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Subaccount
from trading.alerts import ParsedAlert
from trading.broker_view import (
    SafetyBlock,
    account_read,
    position_read,
    position_wait,
    symbol_read,
    view_from_snapshot,
    view_snapshot,
)
from trading.brokers.base import Broker, BrokerError, BrokerRejected
from trading.brokers.services import broker_for
from trading.contracts import ContractSymbol
from trading.decisions import (
    OUTCOME_COLUMNS,
    RUNNABLE,
    alert_from_signal,
    contract_for,
    outcome_finish,
    outcome_safety_block,
    plan_for,
    plan_json,
)
from trading.engine import BrokerView, Plan
from trading.engine_exits import exits_for
from trading.fanout import Stopwatch, outcomes_execute_batch
from trading.in_doubt import (
    InDoubt,
    outcome_lookup_counted,
    outcome_mark_in_doubt,
    signal_lease,
)
from trading.models import Order, Signal, SignalOutcome, Strategy, TraderAccount
from trading.order_states import Source, order_observe
from trading.orders import (
    entry_request,
    exits_place,
    order_cancel,
    order_place_once,
    orphans_cancel,
    position_close_once,
)
from trading.position_lock import position_lock
from trading.signal_status import signal_status_summarise

logger = logging.getLogger(__name__)


# --- one signal ---------------------------------------------------------------------------------


def acting_accounts(strategy: Strategy) -> QuerySet[TraderAccount]:
    """The enabled accounts of the enabled traders following ``strategy``, ready to execute."""
    return TraderAccount.objects.filter(
        trader__strategy=strategy, trader__enabled=True, enabled=True, subaccount__active=True
    ).select_related("trader__strategy", "trader__user", "subaccount__connection")


def signal_accounts(*, signal: Signal) -> list[TraderAccount]:
    accounts = acting_accounts(signal.strategy)
    if signal.for_trader_id is not None:
        accounts = accounts.filter(trader_id=signal.for_trader_id)
    if signal.is_test:  # a strategy's test alert never trades its subscribers' accounts
        accounts = accounts.filter(trader__user_id=signal.strategy.user_id)
    return list(accounts)


def signal_execute(*, signal_id: int) -> Signal:
    """Execute a stored signal on every enabled account, concurrently; safe to run again."""
    signal = Signal.objects.select_related("strategy").get(pk=signal_id)
    if signal.status in Signal.FINAL_STATUSES:
        return signal
    with signal_lease(signal_id=signal.pk):
        _signal_execute_leased(signal)
    signal.refresh_from_db()
    return signal


def _signal_execute_leased(signal: Signal) -> None:
    watch = Stopwatch(signal.received_at)
    watch.stamp("picked")
    started = {"started_at": timezone.now()} if signal.started_at is None else {}
    Signal.objects.filter(pk=signal.pk).update(
        status=Signal.Status.EXECUTING, executing_by=_executor(), **started
    )
    accounts = signal_accounts(signal=signal)
    extra: dict[str, Any] = {}
    if not accounts:
        # D22: "no enabled accounts" is a visible outcome, never silence.
        extra["rejection_reason"] = (
            "No enabled trader account follows this strategy: nothing was sent."
        )
    else:
        fresh, runnable = _outcomes_make(signal, accounts)
        watch.stamp("outcomes")
        chunks = outcome_chunks(runnable, size=django_settings.FANOUT_CHUNK_ACCOUNTS)
        if len(chunks) > 1:  # the other chunks to other worker processes (queue "signals")
            from trading.tasks import execute_signal_chunk

            for chunk in chunks[1:]:
                execute_signal_chunk.delay(signal.pk, chunk)
        if chunks:
            outcomes_run(signal=signal, outcome_ids=chunks[0], watch=watch, loaded=fresh)
        extra["timings"] = watch.stages
    signal_status_summarise(signal_id=signal.pk, **extra)


def _outcomes_make(
    signal: Signal, accounts: list[TraderAccount]
) -> tuple[dict[int, SignalOutcome], list[tuple[int, int]]]:
    """One outcome per account (unique per signal and account): the new ones as loaded objects
    (their accounts, traders and logins attached, for the fan-out), and every runnable one as
    (id, login). A first run inserts them in one statement; a rerun keeps those it has."""
    outcomes = [
        SignalOutcome(
            signal=signal, trader_account=a, subaccount=a.subaccount, symbol=signal.symbol
        )
        for a in accounts
    ]
    if signal.started_at is None:  # the first run: no outcome exists yet
        try:
            with transaction.atomic():
                SignalOutcome.objects.bulk_create(outcomes)
            return {o.pk: o for o in outcomes}, [
                (o.pk, o.subaccount.connection_id) for o in outcomes
            ]
        except IntegrityError:  # a twin run got there first: as a rerun
            pass
    SignalOutcome.objects.bulk_create(outcomes, ignore_conflicts=True)
    runnable = (
        SignalOutcome.objects.filter(
            signal=signal, trader_account__in=accounts, status__in=RUNNABLE
        )
        .order_by("id")
        .values_list("pk", "subaccount__connection_id")
    )
    return {}, list(runnable)


def outcome_chunks(outcomes: list[tuple[int, int]], *, size: int) -> list[list[int]]:
    """``(outcome id, login)`` pairs in chunks of about ``size`` outcomes, a login never split
    (it is read once), the first chunk run here and the others by other worker processes. Pure."""
    by_login: dict[int, list[int]] = {}
    for outcome_id, login in outcomes:
        by_login.setdefault(login, []).append(outcome_id)
    chunks: list[list[int]] = []
    for ids in by_login.values():
        if not chunks or len(chunks[-1]) + len(ids) > size:
            chunks.append([])
        chunks[-1].extend(ids)
    return chunks


def signal_chunk_execute(*, signal_id: int, outcome_ids: list[int]) -> None:
    """A chunk of a large signal's outcomes, in another worker process: under the signal's
    lease (held by every process working on it), then the signal's status summarised again."""
    signal = Signal.objects.select_related("strategy").get(pk=signal_id)
    with signal_lease(signal_id=signal_id):
        outcomes_run(signal=signal, outcome_ids=outcome_ids)
        signal_status_summarise(signal_id=signal_id)


def outcomes_run(
    *,
    signal: Signal,
    outcome_ids: list[int],
    watch: Stopwatch | None = None,
    loaded: dict[int, SignalOutcome] | None = None,
) -> None:
    """These outcomes of ``signal``: the fresh ones per broker login (trading/fanout.py), the
    others (and everything, with FANOUT_BATCH off) each on its own thread, at most
    SIGNAL_ACCOUNT_CONCURRENCY at once."""
    left = outcome_ids
    if django_settings.FANOUT_BATCH:
        left = outcomes_execute_batch(
            signal=signal, outcome_ids=outcome_ids, watch=watch, loaded=loaded
        )
    if len(left) == 1:  # one account: on this thread and its connection, no hand-off
        _in_thread(outcome_execute)(left[0])
    elif left:
        workers = min(django_settings.SIGNAL_ACCOUNT_CONCURRENCY, len(left))
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=f"signal{signal.pk}"
        ) as pool:
            list(pool.map(_in_thread(outcome_execute), left))


def _executor() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def outcome_settle(*, outcome_id: int) -> None:
    """One look-up round for an in-doubt outcome (the schedule's task, or the sweep): the
    outcome is executed again, which looks its in-doubt orders up before anything else and
    never sends one twice; then the signal's status is summarised again."""
    if not outcome_lookup_counted(outcome_id=outcome_id):
        return
    try:
        outcome_execute(outcome_id=outcome_id)
    finally:
        signal_id = SignalOutcome.objects.values_list("signal_id", flat=True).get(pk=outcome_id)
        signal_status_summarise(signal_id=signal_id)


def _in_thread(function: Callable[..., None]) -> Callable[[int], None]:
    def run(outcome_id: int) -> None:
        try:
            function(outcome_id=outcome_id)
        except Exception:  # D04: recorded by outcome_execute; never stops the other accounts
            logger.exception("outcome %s failed outside its own handling", outcome_id)
        finally:
            connection.close()  # return this thread's connection (and any lock) to the pool

    return run


def outcome_execute(*, outcome_id: int) -> None:
    """One signal on one trader account. Records everything on the outcome; never raises for
    a broker failure."""
    outcome = SignalOutcome.objects.select_related(
        "signal__strategy",
        "trader_account__trader__user",
        "trader_account__trader__strategy",
        "subaccount__connection",
    ).get(pk=outcome_id)
    if outcome.status not in RUNNABLE:
        return
    signal = outcome.signal
    alert = alert_from_signal(signal)
    try:
        contract = contract_for(account=outcome.trader_account, alert=alert)
    except ValueError as exc:
        outcome_finish(outcome, SignalOutcome.Status.FAILED, error=exc)
        return
    if outcome.symbol != contract.tradovate_name:
        outcome.symbol = contract.tradovate_name
        outcome.save(update_fields=["symbol"])
    try:
        with position_lock(subaccount=outcome.subaccount, symbol=contract.tradovate_name):
            # Another worker may have finished it meanwhile. Only the outcome's own columns are
            # re-read: refreshing everything would drop the loaded relations (7 more queries).
            outcome.refresh_from_db(fields=OUTCOME_COLUMNS)
            if outcome.status not in RUNNABLE:
                return
            _execute_locked(outcome=outcome, alert=alert, contract=contract)
    except InDoubt as exc:
        outcome_mark_in_doubt(outcome, error=exc)
    except SafetyBlock as exc:
        outcome_safety_block(outcome, exc)
    except (BrokerError, TimeoutError) as exc:
        outcome_finish(outcome, SignalOutcome.Status.FAILED, error=exc)
    except Exception as exc:  # never "Unknown error": the type and message are kept (D38)
        logger.exception("outcome %s: unexpected failure", outcome.pk)
        outcome_finish(outcome, SignalOutcome.Status.FAILED, error=exc)


def _execute_locked(
    *, outcome: SignalOutcome, alert: ParsedAlert, contract: ContractSymbol
) -> None:
    subaccount = outcome.subaccount
    signal = outcome.signal
    resuming = outcome.broker_snapshot is not None
    age = (timezone.now() - signal.received_at).total_seconds()
    if (
        not resuming
        and age > django_settings.SIGNAL_MAX_AGE_SECONDS
        and not Order.objects.filter(outcome=outcome).exists()  # never expire what was sent
    ):
        outcome_finish(
            outcome,
            SignalOutcome.Status.FAILED,
            reason=f"expired: the signal is {age:.0f} s old (limit "
            f"{django_settings.SIGNAL_MAX_AGE_SECONDS} s); nothing was sent",
        )
        return
    outcome.started_at = outcome.started_at or timezone.now()
    try:
        broker = broker_for(connection=subaccount.connection)
    except BrokerError as exc:
        raise SafetyBlock(f"cannot log in to {subaccount.connection.label}: {exc}") from exc
    try:
        account_working: int | None = None  # read again before an entry when resuming
        if resuming:
            assert outcome.broker_snapshot is not None
            view = view_from_snapshot(outcome.broker_snapshot)
        else:
            view, account_working = account_read(
                broker, account_id=subaccount.broker_account_id, symbol=contract.tradovate_name
            )
            outcome.broker_snapshot = view_snapshot(view)
            outcome.position_before = view.net_pos
        plan = plan_for(outcome=outcome, alert=alert, view=view, broker=broker, contract=contract)
        outcome.decision = plan.decision.value
        outcome.reason = plan.reason
        outcome.decided_at = outcome.decided_at or timezone.now()
        outcome.plan = plan_json(plan)
        outcome.save()
        if plan.entry is not None and account_working is None:
            account_working = _working_count(broker, subaccount)
        if plan.entry is not None and (account_working or 0) >= django_settings.WORKING_ORDERS_CAP:
            raise SafetyBlock(
                f"{subaccount.name} already has {django_settings.WORKING_ORDERS_CAP} or more "
                "working orders (Z6 cap); cancel stale orders first"
            )
        try:
            _carry_out(
                plan=plan, broker=broker, outcome=outcome, contract=contract, resuming=resuming
            )
        except (InDoubt, BrokerRejected):
            raise  # in doubt already, or a definite refusal: the outcome says which
        except (BrokerError, SafetyBlock, TimeoutError) as exc:
            # Something may have been sent already: never "failed", finish it later.
            raise InDoubt(f"the broker could not be reached to finish the orders ({exc})") from exc
    finally:
        broker.close()


def _working_count(broker: Broker, subaccount: Subaccount) -> int:
    return len(broker.working_orders(account_id=subaccount.broker_account_id))


def _carry_out(
    *,
    plan: Plan,
    broker: Broker,
    outcome: SignalOutcome,
    contract: ContractSymbol,
    resuming: bool = False,
) -> None:
    subaccount = outcome.subaccount
    account_id = subaccount.broker_account_id
    symbol = contract.tradovate_name
    # A resumed run whose entry was already sent has done its cancels and close before it.
    entry_sent = resuming and Order.objects.filter(outcome=outcome, role=Order.Role.ENTRY).exists()
    if not entry_sent:
        for order_id in plan.cancel_order_ids:  # D29: cancel before place
            try:
                order_cancel(broker, subaccount=subaccount, order_id=order_id)
            except BrokerRejected:
                pass  # TooLate: it already filled or was cancelled; the position read tells
    view: BrokerView | None = None
    if plan.flatten and not entry_sent:
        view = position_close_once(broker, outcome=outcome, contract=contract, resuming=resuming)
    lost_entry = ""
    if plan.entry is not None:
        entry = order_place_once(
            broker,
            outcome=outcome,
            role=Order.Role.ENTRY,
            request=entry_request(outcome=outcome, contract=contract, entry=plan.entry),
        )
        if entry.state == Order.State.NEVER_PLACED:
            lost_entry = (
                f"the entry never reached the broker: {entry.error}; it was not sent again "
                "(the signal is too old by now)"
            )
        else:
            view = position_wait(
                broker,
                account_id=account_id,
                symbol=symbol,
                until=lambda pos: pos == plan.target_position,
            )
            if view.net_pos == plan.target_position:  # the broker's position says it filled
                order_observe(entry, state=Order.State.FILLED, source=Source.READ)
    if view is None:  # nothing changed the position: read it once
        view = symbol_read(broker, account_id=account_id, symbol=symbol)
    if plan.exits is not None and view.net_pos != 0 and view.net_price is not None:
        exits = exits_for(
            rule=plan.exits, net_pos=view.net_pos, net_price=view.net_price, spec=contract.spec
        )
        exits_place(broker, outcome=outcome, contract=contract, exits=exits)
        if exits.notes:
            outcome.reason = f"{outcome.reason}; " + "; ".join(exits.notes)
    elif view.net_pos == 0:  # Z6: our exits left on a flat position
        orphans_cancel(
            broker, outcome=outcome, view=symbol_read(broker, account_id=account_id, symbol=symbol)
        )
    outcome.position_after = position_read(broker, account_id=account_id, symbol=symbol).net_pos
    if lost_entry != "":
        outcome_finish(
            outcome, SignalOutcome.Status.FAILED, reason=f"{outcome.reason}; {lost_entry}"
        )
        return
    outcome_finish(outcome, SignalOutcome.Status.DONE)


def signals_resume_stale() -> list[int]:
    """Beat, every few seconds: signals whose executing worker died (its lease lapsed) are run
    again, and in-doubt outcomes whose look-up task is overdue are looked up; the advisory
    lock, the stored snapshot and clOrdIds make both safe."""
    from trading.in_doubt import outcomes_in_doubt_overdue, signals_without_executor
    from trading.tasks import execute_signal, settle_in_doubt

    stale = signals_without_executor()
    for pk in stale:
        execute_signal.delay(pk)
    for outcome_id in outcomes_in_doubt_overdue():
        settle_in_doubt.delay(outcome_id)
    return stale


__all__ = ["outcome_execute", "signal_execute", "signals_resume_stale"]
