"""One signal on many accounts, per broker login: one read, the decisions, the rows in one
insert, then the calls at once (issue 14). The cost of a fan-out follows broker round trips,
not accounts x Python work.

For a signal's fresh outcomes (never run before), grouped by broker login:
1. the position lock of every (account, symbol), tried in one statement on this thread's
   connection; an account whose lock is busy (another signal is on it) is left to the
   per-account path, which waits for it;
2. one read per login of its positions and working orders (Tradovate's lists hold every account
   of the login), every login at once; a login that cannot be logged in to or read is a safety
   block for its accounts: nothing is placed on what cannot be verified (Z2, Z3);
3. each account's decision from that read (`trading.decisions.plan_for`, the one place the
   engine is asked), stored with the read as its snapshot, all in one update;
4. the entries' Order rows in one insert, committed before any call; then every entry sent at
   once (`trading.broker_calls`: at most FANOUT_LOGIN_CONCURRENCY in flight per login; a
   login's 429 cooldown stops its calls not yet sent);
5. the fills seen by one positions read per login, the exits' rows in one insert and the exits
   sent at once, like the entries.
Nothing waits for a slower login or account: every call is answered as it comes
(`trading.broker_calls.CallQueue`), and each answer moves its own login or account on; the
database work is done once per batch of answers (everything answered since the last look).

Exactly-once is the per-account path's: deterministic clOrdIds, the decision and snapshot
stored before the rows, the rows before the calls. A run killed at any point leaves outcomes
that the per-account path resumes from their snapshot and rows (looked up, never sent twice).
An unanswered call puts its rows and outcome in doubt; a refusal fails the outcome with the
broker's words; one account's failure never touches another's (D04).

What is not plain is handed back for the per-account path (trading/execution.py runs it):
cancels before the entry, a close or a reversal, our exits left on a flat position, an outcome
already begun (resumed), two outcomes on one position, a signal past its age limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import BrokerConnection
from config.rows_update import rows_update
from trading.alerts import ParsedAlert
from trading.broker_calls import CallQueue
from trading.broker_view import FILL_WAIT_SECONDS, SafetyBlock, view_of, view_snapshot
from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerPosition,
    BrokerRejected,
    OrderRequest,
    PlacedOco,
    PlacedOrder,
    WorkingOrder,
)
from trading.brokers.services import broker_for
from trading.contracts import ContractSymbol
from trading.decisions import (
    alert_from_signal,
    contract_for,
    outcome_finish,
    outcome_safety_block,
    plan_for,
    plan_json,
)
from trading.engine import BrokerView, Plan
from trading.engine_exits import exits_for
from trading.in_doubt import InDoubt, outcome_mark_in_doubt
from trading.models import Order, Signal, SignalOutcome
from trading.order_states import Source, orders_accepted, orders_observe_many
from trading.orders import (
    ExitCall,
    entry_request,
    exit_calls,
    order_rows_create,
    refused_or_in_doubt,
)
from trading.position_lock import position_locks_release, position_locks_try

logger = logging.getLogger(__name__)

_DECIDED_FIELDS = [
    "symbol",
    "started_at",
    "broker_snapshot",
    "position_before",
    "decision",
    "reason",
    "decided_at",
    "plan",
]


@dataclass
class _Account:
    """One outcome on its way through the fan-out."""

    outcome: SignalOutcome
    contract: ContractSymbol
    plan: Plan | None = None
    view: BrokerView | None = None  # the broker's, before (then after the entry's fill)
    working_count: int = 0  # working orders on the whole account (the Z6 cap)
    entry: Order | None = None
    finished: bool = False

    @property
    def position(self) -> tuple[int, str]:
        return (self.outcome.subaccount_id, self.contract.tradovate_name)

    @property
    def account_id(self) -> int:
        return self.outcome.subaccount.broker_account_id

    @property
    def login(self) -> int:
        return self.outcome.subaccount.connection_id


@dataclass
class _Login:
    connection: BrokerConnection
    accounts: list[_Account]
    broker: Broker | None = None


# The stages a Stopwatch stamps, in words (the signal page lists them in time order).
STAGE_WORDS = {
    "picked": "a worker took it",
    "outcomes": "accounts listed",
    "locked": "positions locked",
    "read": "broker read",
    "decided": "decided",
    "entry_rows": "entry rows written",
    "entries_answered": "first entry answered",
    "filled": "fill seen",
    "exits_answered": "exits answered",
    "done": "done",
}


class Stopwatch:
    """Milliseconds from the signal's receipt to each stage, for the signal's ``timings``."""

    def __init__(self, received_at: datetime) -> None:
        self.received_at = received_at
        self.stages: dict[str, float] = {}

    def stamp(self, stage: str) -> None:
        assert stage in STAGE_WORDS, stage
        elapsed = (timezone.now() - self.received_at).total_seconds() * 1000
        self.stages.setdefault(stage, round(elapsed, 1))


def outcomes_execute_batch(
    *,
    signal: Signal,
    outcome_ids: list[int],
    watch: Stopwatch | None = None,
    loaded: dict[int, SignalOutcome] | None = None,
) -> list[int]:
    """Execute the fresh ones of ``outcome_ids`` per broker login (the module's steps); the ids
    of the others, for the per-account path. Never raises for a broker failure: each account's
    outcome says what happened. ``loaded``: outcomes just created, with their accounts, traders
    and logins attached (not read again)."""
    watch = watch or Stopwatch(signal.received_at)
    # Outcomes this run has just inserted are fresh (a twin run fails its insert): no reload
    # and, under their locks, no re-check.
    loaded = loaded or {}
    just_made = bool(outcome_ids) and all(pk in loaded for pk in outcome_ids)
    if just_made:
        outcomes = [loaded[pk] for pk in outcome_ids]
    else:
        outcomes = list(
            SignalOutcome.objects.filter(
                pk__in=outcome_ids,
                status=SignalOutcome.Status.PENDING,
                broker_snapshot__isnull=True,
            ).select_related(
                "trader_account__trader__user",
                "trader_account__trader__strategy",
                "subaccount__connection",
            )
        )
    fresh = {o.pk for o in outcomes}
    left = [pk for pk in outcome_ids if pk not in fresh]
    age = (timezone.now() - signal.received_at).total_seconds()
    if not outcomes or age > settings.SIGNAL_MAX_AGE_SECONDS:
        return list(outcome_ids)  # the per-account path says "expired" with the age
    alert = alert_from_signal(signal)
    accounts: list[_Account] = []
    positions: set[tuple[int, str]] = set()
    for outcome in outcomes:
        outcome.signal = signal
        try:
            contract = contract_for(account=outcome.trader_account, alert=alert)
        except ValueError as exc:
            outcome_finish(outcome, SignalOutcome.Status.FAILED, error=exc)
            continue
        outcome.symbol = contract.tradovate_name
        account = _Account(outcome=outcome, contract=contract)
        if account.position in positions:  # two traders on one position: one after the other
            left.append(outcome.pk)
            continue
        positions.add(account.position)
        accounts.append(account)
    got = position_locks_try(positions=[a.position for a in accounts])
    held = [a for a, ok in zip(accounts, got, strict=True) if ok]
    left += [a.outcome.pk for a, ok in zip(accounts, got, strict=True) if not ok]
    watch.stamp("locked")
    try:
        left += _execute_held(
            signal=signal, alert=alert, held=held, watch=watch, recheck=not just_made
        )
    finally:
        position_locks_release(positions=[a.position for a in held])
    return left


def _execute_held(
    *,
    signal: Signal,
    alert: ParsedAlert,
    held: list[_Account],
    watch: Stopwatch,
    recheck: bool,
) -> list[int]:
    accounts = held
    if recheck:  # another worker may have begun some meanwhile (a chunk delivered twice)
        still = set(
            SignalOutcome.objects.filter(
                pk__in=[a.outcome.pk for a in held],
                status=SignalOutcome.Status.PENDING,
                broker_snapshot__isnull=True,
            ).values_list("pk", flat=True)
        )
        accounts = [a for a in held if a.outcome.pk in still]
    logins: dict[int, _Login] = {}
    for account in accounts:
        connection = account.outcome.subaccount.connection
        logins.setdefault(connection.pk, _Login(connection=connection, accounts=[]))
        logins[connection.pk].accounts.append(account)
    run = _Run(alert=alert, logins=logins, watch=watch)
    try:
        run.start()
        while run.calls.pending:
            run.answered(run.calls.answers())
    except Exception:  # a bug, never a broker's answer: what is unfinished is resumed
        logger.exception("signal %s: the fan-out stopped; the per-account path resumes", signal.pk)
        return run.left + [a.outcome.pk for a in accounts if not a.finished]
    finally:
        for login in logins.values():
            if login.broker is not None:
                login.broker.close()
    return run.left


class _Run:
    """One fan-out's calls and what each answer moves on (see the module's steps)."""

    def __init__(self, *, alert: ParsedAlert, logins: dict[int, _Login], watch: Stopwatch) -> None:
        self.alert = alert
        self.logins = logins
        self.watch = watch
        self.calls: CallQueue[tuple[Any, ...]] = CallQueue(
            per_login=settings.FANOUT_LOGIN_CONCURRENCY
        )
        self.left: list[int] = []
        self.reads: dict[int, dict[str, Any]] = {}
        self.exits_unanswered: dict[int, int] = {}  # outcome id -> exit calls in flight

    def start(self) -> None:
        """Log in (the stored token, else a new one) and read every login at once."""
        for login in self.logins.values():
            try:
                login.broker = broker_for(connection=login.connection)
            except BrokerError as exc:
                blocked = SafetyBlock(f"cannot log in to {login.connection.label}: {exc}")
                blocked.__cause__ = exc
                _finish_all(login.accounts, partial(outcome_safety_block, exc=blocked))
                continue
            key = login.connection.pk
            self.calls.send(key, ("read", key, "positions"), login.broker.positions)
            self.calls.send(key, ("read", key, "orders"), login.broker.working_orders)

    def answered(self, answers: list[tuple[tuple[Any, ...], Any]]) -> None:
        """One batch of answers: each kind handled together (one database write per kind)."""
        kinds: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
        for tag, result in answers:
            kinds.setdefault(tag[0], []).append((tag, result))
        if "read" in kinds:
            self._reads_answered(kinds["read"])
        if "entry" in kinds:
            self._entries_answered(kinds["entry"])
        if "position" in kinds:
            self._positions_answered(kinds["position"])
        if "exit" in kinds:
            self._exits_answered(kinds["exit"])

    # --- 2, 3, 4: a login read -> its accounts' decisions -> their entries -------------------

    def _reads_answered(self, answers: list[tuple[tuple[Any, ...], Any]]) -> None:
        complete: list[_Login] = []
        for (_, key, kind), result in answers:
            self.reads.setdefault(key, {})[kind] = result
            if len(self.reads[key]) == 2:
                complete.append(self.logins[key])
        ready: list[_Account] = []
        for login in complete:
            reads = self.reads[login.connection.pk]
            positions, orders = reads["positions"], reads["orders"]
            failed = next((r for r in (positions, orders) if isinstance(r, Exception)), None)
            if failed is not None:
                blocked = SafetyBlock(str(failed))
                blocked.__cause__ = failed
                _finish_all(login.accounts, partial(outcome_safety_block, exc=blocked))
                continue
            by_account = positions_by_account(positions, orders)
            for account in login.accounts:
                held, working = by_account.get(account.account_id, ([], []))
                symbol = account.contract.tradovate_name
                account.view = view_of(
                    [p for p in held if p.symbol == symbol],
                    tuple(o for o in working if o.symbol == symbol),
                )
                account.working_count = len(working)
                ready.append(account)
        if not ready:
            return
        self.watch.stamp("read")
        decided = self._decide(ready)
        self.watch.stamp("decided")
        entering = [a for a in decided if not a.finished and a.plan and a.plan.entry]
        self._outcomes_done(
            [a for a in decided if not a.finished and not (a.plan and a.plan.entry)]
        )
        if entering:
            self._entries_send(entering)

    def _decide(self, ready: list[_Account]) -> list[_Account]:
        """Each account's plan on its read, stored (one update); the plain ones (the others are
        handed to the per-account path, the capped ones blocked)."""
        now = timezone.now()
        decided: list[_Account] = []
        for account in ready:
            outcome, view = account.outcome, account.view
            assert view is not None
            outcome.started_at = outcome.started_at or now
            outcome.broker_snapshot = view_snapshot(view)
            outcome.position_before = view.net_pos
            try:
                plan = plan_for(
                    outcome=outcome,
                    alert=self.alert,
                    view=view,
                    broker=self._broker(account),
                    contract=account.contract,
                )
            except SafetyBlock as exc:  # today's loss could not be read for max_daily_loss
                _finish_all([account], partial(outcome_safety_block, exc=exc))
                continue
            if not _plain(plan, view):
                outcome.broker_snapshot = None  # never stored: the per-account path reads again
                outcome.position_before = None
                account.finished = True  # not here: the caller runs it
                self.left.append(outcome.pk)
                continue
            outcome.decision = plan.decision.value
            outcome.reason = plan.reason
            outcome.decided_at = outcome.decided_at or now
            outcome.plan = plan_json(plan)
            account.plan = plan
            decided.append(account)
        rows_update([a.outcome for a in decided], fields=_DECIDED_FIELDS)
        cap = settings.WORKING_ORDERS_CAP
        for account in decided:
            if account.plan and account.plan.entry and account.working_count >= cap:
                blocked = SafetyBlock(
                    f"{account.outcome.subaccount.name} already has {cap} or more working "
                    "orders (Z6 cap); cancel stale orders first"
                )
                _finish_all([account], partial(outcome_safety_block, exc=blocked))
        return decided

    def _entries_send(self, entering: list[_Account]) -> None:
        requests = []
        for account in entering:
            assert account.plan is not None and account.plan.entry is not None
            requests.append(
                entry_request(
                    outcome=account.outcome, contract=account.contract, entry=account.plan.entry
                )
            )
        rows = order_rows_create(
            [(a.outcome, r, Order.Role.ENTRY) for a, r in zip(entering, requests, strict=True)]
        )
        self.watch.stamp("entry_rows")
        for account, request, row in zip(entering, requests, rows, strict=True):
            account.entry = row
            broker = self._broker(account)
            self.calls.send(account.login, ("entry", account), partial(broker.place_order, request))

    def _entries_answered(self, answers: list[tuple[tuple[Any, ...], Any]]) -> None:
        self.watch.stamp("entries_answered")
        accepted: list[tuple[Order, int | None]] = []
        placed: list[_Account] = []
        for (_, account), result in answers:
            assert account.entry is not None
            if isinstance(result, PlacedOrder):
                accepted.append((account.entry, result.order_id))
                placed.append(account)
            else:
                _call_failed(account, [account.entry], result, what="placing the entry")
        orders_accepted(accepted)
        deadline = time.monotonic() + FILL_WAIT_SECONDS
        self._positions_read(placed, deadline=deadline, pause=0.0)

    # --- 5: the fills, then the exits --------------------------------------------------------

    def _positions_read(self, accounts: list[_Account], *, deadline: float, pause: float) -> None:
        """One positions read per login for these accounts (after ``pause`` seconds)."""
        by_login: dict[int, list[_Account]] = {}
        for account in accounts:
            by_login.setdefault(account.login, []).append(account)
        for key, waiting in by_login.items():
            broker = self._broker(waiting[0])
            self.calls.send(
                key, ("position", waiting, deadline), partial(positions_after, broker, pause)
            )

    def _positions_answered(self, answers: list[tuple[tuple[Any, ...], Any]]) -> None:
        filled: list[tuple[Order, str | None, dict[str, Any]]] = []
        protect: list[_Account] = []
        for (_, waiting, deadline), result in answers:
            if isinstance(result, Exception):
                doubt = InDoubt(f"the broker could not be reached to finish the orders ({result})")
                _finish_all(waiting, partial(outcome_mark_in_doubt, error=doubt))
                continue
            held = positions_by_account(result, [])
            again = []
            for account in waiting:
                assert account.plan is not None and account.entry is not None
                symbol = account.contract.tradovate_name
                mine = [p for p in held.get(account.account_id, ([], []))[0] if p.symbol == symbol]
                account.view = view_of(mine, ())
                if account.view.net_pos == account.plan.target_position:
                    filled.append((account.entry, Order.State.FILLED, {}))
                    protect.append(account)
                elif time.monotonic() <= deadline:
                    again.append(account)
                else:  # not filled as planned in time: protect what is there, as it is
                    protect.append(account)
            if again:
                self._positions_read(again, deadline=deadline, pause=0.05)
        orders_observe_many(filled, source=Source.READ)
        self.watch.stamp("filled")
        self._exits_send(protect)

    def _exits_send(self, accounts: list[_Account]) -> None:
        """The exits of every account whose position is open: rows first (one insert for all),
        then every call at once. Accounts with nothing to protect are done."""
        calls: list[tuple[_Account, ExitCall]] = []
        bare: list[_Account] = []
        for account in accounts:
            plan, view = account.plan, account.view
            assert plan is not None and plan.exits is not None and view is not None
            if view.net_pos == 0 or view.net_price is None:
                bare.append(account)
                continue
            exits = exits_for(
                rule=plan.exits,
                net_pos=view.net_pos,
                net_price=view.net_price,
                spec=account.contract.spec,
            )
            if exits.notes:
                account.outcome.reason = f"{account.outcome.reason}; " + "; ".join(exits.notes)
            mine = exit_calls(outcome=account.outcome, contract=account.contract, exits=exits)
            if not mine:
                bare.append(account)
            calls += [(account, c) for c in mine]
        self._outcomes_done(bare)
        if not calls:
            return
        items: list[tuple[SignalOutcome, OrderRequest, str]] = []
        for account, call in calls:
            if call.take_profit is not None:
                items.append((account.outcome, call.take_profit, Order.Role.TAKE_PROFIT))
            if call.stop is not None:
                items.append((account.outcome, call.stop, Order.Role.STOP))
        rows = iter(order_rows_create(items))
        for account, call in calls:
            legs = [leg for leg in (call.take_profit, call.stop) if leg is not None]
            mine_rows = [next(rows) for _ in legs]
            broker = self._broker(account)
            send: Callable[[], PlacedOco | PlacedOrder]
            if call.take_profit is not None and call.stop is not None:
                send = partial(broker.place_oco, call.take_profit, call.stop)
            else:
                send = partial(broker.place_order, legs[0])
            pk = account.outcome.pk
            self.exits_unanswered[pk] = self.exits_unanswered.get(pk, 0) + 1
            self.calls.send(account.login, ("exit", account, call, mine_rows), send)

    def _exits_answered(self, answers: list[tuple[tuple[Any, ...], Any]]) -> None:
        accepted: list[tuple[Order, int | None]] = []
        done: list[_Account] = []
        for (_, account, call, rows), result in answers:
            if isinstance(result, PlacedOco):
                accepted += [(rows[0], result.order_id), (rows[1], result.other_order_id)]
            elif isinstance(result, PlacedOrder):
                accepted.append((rows[0], result.order_id))
            elif not account.finished:
                _exit_failed(account, call, rows, result)
            self.exits_unanswered[account.outcome.pk] -= 1
            if self.exits_unanswered[account.outcome.pk] == 0 and not account.finished:
                done.append(account)
        orders_accepted(accepted)
        self.watch.stamp("exits_answered")
        self._outcomes_done(done)

    def _outcomes_done(self, done: list[_Account]) -> None:
        """These accounts went through: done, with where each position ended (one update)."""
        if not done:
            return
        now = timezone.now()
        for account in done:
            outcome = account.outcome
            outcome.status = SignalOutcome.Status.DONE
            outcome.finished_at = now
            outcome.position_after = None if account.view is None else account.view.net_pos
            account.finished = True
        rows_update(
            [a.outcome for a in done], fields=["status", "finished_at", "position_after", "reason"]
        )

    def _broker(self, account: _Account) -> Broker:
        broker = self.logins[account.login].broker
        assert broker is not None
        return broker


def positions_after(broker: Broker, pause: float) -> list[BrokerPosition]:
    """The login's positions read after ``pause`` seconds (a pool call: no database)."""
    if pause:
        time.sleep(pause)
    return broker.positions()


def positions_by_account(
    positions: list[BrokerPosition], orders: list[WorkingOrder]
) -> dict[int, tuple[list[BrokerPosition], list[WorkingOrder]]]:
    """A login's read, by broker account id: (its positions, its working orders)."""
    grouped: dict[int, tuple[list[BrokerPosition], list[WorkingOrder]]] = {}
    for position in positions:
        grouped.setdefault(position.account_id, ([], []))[0].append(position)
    for order in orders:
        grouped.setdefault(order.account_id, ([], []))[1].append(order)
    return grouped


def _plain(plan: Plan, view: BrokerView) -> bool:
    """True for what the fan-out carries out itself: no cancel and no close before the entry,
    and no exits of ours possibly left on a flat position."""
    if plan.cancel_order_ids or plan.flatten:
        return False
    return plan.entry is not None or view.net_pos != 0 or not view.working_orders


def _call_failed(account: _Account, rows: list[Order], error: Exception, *, what: str) -> None:
    """An order call of the account failed: unanswered -> its rows and the outcome in doubt
    (looked up, never sent twice); refused -> the rows rejected and the outcome failed, in the
    broker's words. An unexpected exception counts as unanswered: it may have been sent."""
    if not isinstance(error, BrokerError):
        logger.error("%s for outcome %s failed unexpectedly: %r", what, account.outcome.pk, error)
        error = BrokerError(f"{what} failed: {type(error).__name__}: {error}", ambiguous=True)
    assert isinstance(error, BrokerError)
    try:
        refused_or_in_doubt(error, *rows, what=what)
    except InDoubt as doubt:
        _finish_all([account], partial(outcome_mark_in_doubt, error=doubt))
        return
    _finish_all([account], partial(outcome_finish, status=SignalOutcome.Status.FAILED, error=error))


def _exit_failed(account: _Account, call: ExitCall, rows: list[Order], error: Exception) -> None:
    """As the per-account path: a refusal fails the outcome in the broker's words; a call not
    sent (cooldown, session) leaves the outcome in doubt, to be finished by its look-ups."""
    what = "placing the stop"
    if call.take_profit is not None:
        what = f"placing take-profit {call.number}" + (" + stop" if call.stop else "")
    if not isinstance(error, BrokerError) or error.ambiguous or isinstance(error, BrokerRejected):
        _call_failed(account, rows, error, what=what)
        return
    refused_or_in_doubt(error, *rows, what=what)
    doubt = InDoubt(f"the broker could not be reached to finish the orders ({error})")
    doubt.__cause__ = error
    _finish_all([account], partial(outcome_mark_in_doubt, error=doubt))


def _finish_all(accounts: Iterable[_Account], finish: Callable[[SignalOutcome], None]) -> None:
    for account in accounts:
        if not account.finished:
            finish(account.outcome)
            account.finished = True
