"""The decision engine: what a signal does, as a pure function (ENGINE.md, DESIGN.md §4).

Data in, a `Plan` out. No ORM, no I/O, no clock: the time is ``alert.received_at`` and the
position is the broker's, read just before the call (``BrokerView``). Nothing else in the
product decides what a signal does (D17).

`decide` answers "what now": cancel which exits, flatten or not, which market entry, and the
rule for the exits. After the entry has filled, the executor reads the broker's new position and
calls `trading.engine_exits.exits_for`, which prices the exits for the **whole** position from
the broker's average price (D17, D29, D18, D07, Z4); break-even and trailing are
`trading.engine_stops.stop_adjustment`.

Disasters this module makes impossible, each with a test in ``tests/disasters``: CLOSE is never
an entry and is a no-op when flat (D46, D48); ``on_same_direction=ignore`` never adds (D42); a
reversal closes and then opens the other side (D45); ``0`` means zero and ``None`` means "not
set", never the other way round (D06, D41); no cap of the user's unless ``max_contracts`` is
set (D37), and whatever the settings, no entry order over the platform's safety ceiling
(``EffectiveSettings.order_qty_ceiling``, issue 9: an alert quantity of 10,000 was traded).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

from trading.brokers.base import Side, WorkingOrder
from trading.contracts import ContractSpec
from trading.settings_resolution import (
    BreakEven,
    DirectionFilter,
    EffectiveSettings,
    OppositeDirection,
    SameDirection,
    StopSetting,
    TakeProfitLevel,
    Trailing,
)

__all__ = [
    "Action",
    "AlertInput",
    "BrokerView",
    "Decision",
    "EntryStep",
    "ExitRule",
    "FilterState",
    "Plan",
    "decide",
]

# Arithmetic on prices runs at this precision, so nothing is rounded before `round_to_tick`.
_PRECISION = 60
# No real alert asks for this many contracts; refusing it keeps the arithmetic bounded.
_MAX_ALERT_QUANTITY = Decimal(1_000_000)


class Action(enum.StrEnum):
    """A signal's action, already mapped through the parser's one action table (D46)."""

    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"


class Decision(enum.StrEnum):
    OPEN = "open"
    ADD = "add"
    REENTER = "reenter"
    REVERSE = "reverse"
    CLOSE = "close"
    CLOSE_OPPOSITE = "close_opposite"  # on_opposite_direction=close (or a blocked reverse)
    IGNORED = "ignored"  # a setting said "do nothing" (same/opposite=ignore, CLOSE when flat)
    BLOCKED = "blocked"  # a filter or max_contracts blocked an entry/add
    ZERO_QUANTITY = "zero_quantity"  # the quantity computed to 0: no order, said so


def _price(value: object, name: str, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, float):
        raise TypeError(f"{name} is a float ({value!r}); prices are Decimal, never float")
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")


def _aware(value: object, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class AlertInput:
    action: Action  # already mapped through the action table (parser's job)
    quantity: Decimal | None  # the alert's quantity, if any
    price: Decimal | None  # the alert's price/close, if any
    take_profit_price: Decimal | None
    stop_price: Decimal | None
    received_at: datetime  # aware (UTC)

    def __post_init__(self) -> None:
        if not isinstance(self.action, Action):
            raise TypeError(f"action must be an Action, got {self.action!r}")
        _price(self.quantity, "quantity")
        if self.quantity is not None and not Decimal(0) <= self.quantity <= _MAX_ALERT_QUANTITY:
            raise ValueError(f"quantity must be 0..{_MAX_ALERT_QUANTITY}, got {self.quantity}")
        _price(self.price, "price")
        _price(self.take_profit_price, "take_profit_price")
        _price(self.stop_price, "stop_price")
        _aware(self.received_at, "received_at")


@dataclass(frozen=True)
class BrokerView:
    """Read from the broker just now: the truth (D19, Z2)."""

    net_pos: int  # signed; 0 = flat
    net_price: Decimal | None  # broker's average price; None when flat
    working_orders: tuple[WorkingOrder, ...]  # this subaccount+symbol only (D08)
    last_price: Decimal | None  # a reference price when flat (alert price or market)

    def __post_init__(self) -> None:
        _int(self.net_pos, "net_pos")
        _price(self.net_price, "net_price")
        _price(self.last_price, "last_price")
        if not isinstance(self.working_orders, tuple):
            raise TypeError("working_orders must be a tuple of WorkingOrder")


@dataclass(frozen=True)
class FilterState:
    """From our database, for filters only -- never for the position (D19)."""

    entries_today: int
    last_entry_at: datetime | None
    realized_loss_today: Decimal  # >= 0

    def __post_init__(self) -> None:
        if _int(self.entries_today, "entries_today") < 0:
            raise ValueError(f"entries_today must be 0 or more, got {self.entries_today}")
        if self.last_entry_at is not None:
            _aware(self.last_entry_at, "last_entry_at")
        _price(self.realized_loss_today, "realized_loss_today", optional=False)
        if self.realized_loss_today < 0:
            raise ValueError(
                f"realized_loss_today is a loss as a positive number, got {self.realized_loss_today}"
            )


@dataclass(frozen=True)
class EntryStep:
    """A market order."""

    side: Side
    qty: int

    def __post_init__(self) -> None:
        if _int(self.qty, "qty") <= 0:
            raise ValueError(f"an entry has a positive quantity, got {self.qty}")


@dataclass(frozen=True)
class ExitRule:
    """What `engine_exits.exits_for` needs: the exit settings and the alert's own prices."""

    take_profits: tuple[TakeProfitLevel, ...]
    stop: StopSetting | None
    break_even: BreakEven | None  # carried for the position monitor
    trailing: Trailing | None  # carried for the position monitor
    multiplier: Decimal  # contract-unit take-profit levels are multiplied by it (D18)
    take_profit_price: Decimal | None  # the alert's, for `price`-unit levels
    stop_price: Decimal | None  # the alert's, for a `price`-unit stop


@dataclass(frozen=True)
class Plan:
    decision: Decision
    reason: str  # words for the subscriber: "already long 3 (on_same_direction=ignore)"
    cancel_order_ids: tuple[int, ...]  # this subaccount+symbol's working orders, cancel FIRST
    flatten: bool  # close the whole current position (after cancels)
    entry: EntryStep | None  # market order (after flatten)
    exits: ExitRule | None  # how to compute exits once the entry has filled
    target_position: int  # the signed position the plan intends to leave

    def __post_init__(self) -> None:
        if self.reason.strip() == "":
            raise ValueError("every plan says why in words")
        if (self.entry is None) != (self.exits is None):
            raise ValueError("an entry comes with its exit rule, and only an entry does")


# --- decide ----------------------------------------------------------------------------------


def _word(sign: int) -> str:
    return "long" if sign > 0 else "short"


def _describe(net_pos: int) -> str:
    return "flat" if net_pos == 0 else f"{_word(net_pos)} {abs(net_pos)}"


def _blocked_by(
    *, side: Side, settings: EffectiveSettings, filters: FilterState, alert: AlertInput
) -> str | None:
    """The filter that blocks a new entry on ``side``, in words; None if none does."""
    if side is Side.SELL and settings.direction_filter is DirectionFilter.LONG_ONLY:
        return "short entries are off (direction_filter=long_only)"
    if side is Side.BUY and settings.direction_filter is DirectionFilter.SHORT_ONLY:
        return "long entries are off (direction_filter=short_only)"
    if len(settings.time_windows) > 0:
        local = alert.received_at.astimezone(ZoneInfo(settings.time_zone))
        moment = local.time()
        if not any(window.contains(moment) for window in settings.time_windows):
            windows = ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in settings.time_windows)
            return (
                f"outside the trading windows ({windows} {settings.time_zone}; "
                f"it is {moment:%H:%M:%S})"
            )
    if settings.cooldown_seconds is not None and filters.last_entry_at is not None:
        elapsed = alert.received_at - filters.last_entry_at
        if elapsed < timedelta(seconds=settings.cooldown_seconds):
            return (
                f"in cooldown: last entry {int(elapsed.total_seconds())} s ago, "
                f"cooldown_seconds={settings.cooldown_seconds}"
            )
    if (
        settings.max_signals_per_day is not None
        and filters.entries_today >= settings.max_signals_per_day
    ):
        return (
            f"max_signals_per_day={settings.max_signals_per_day} reached "
            f"({filters.entries_today} entries today)"
        )
    if (
        settings.max_daily_loss is not None
        and filters.realized_loss_today >= settings.max_daily_loss
    ):
        return (
            f"daily loss limit reached: lost {filters.realized_loss_today} today, "
            f"max_daily_loss={settings.max_daily_loss}"
        )
    return None


def _quantity(
    *, size: int, size_name: str, settings: EffectiveSettings, alert: AlertInput
) -> tuple[int, str]:
    """(size x multiplier rounded half up, where the size came from). 0 stays 0 (D41)."""
    if settings.use_alert_quantity and alert.quantity is not None:
        base, source = alert.quantity, f"alert quantity {alert.quantity}"
        most = settings.alert_quantity_max
        if most is not None and base > most:
            base = Decimal(most)
            source = f"alert quantity {alert.quantity} reduced to {most} by alert_quantity_max"
    else:
        base, source = Decimal(size), f"{size_name}={size}"
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        qty = int((base * settings.multiplier).to_integral_value(rounding=ROUND_HALF_UP))
    return qty, f"{source} x multiplier {settings.multiplier}"


@dataclass(frozen=True)
class _Sized:
    qty: int
    how: str


@dataclass(frozen=True)
class _NoEntry:
    decision: Decision
    reason: str


def _size_entry(
    *,
    side: Side,
    adding: bool,
    current: int,
    settings: EffectiveSettings,
    filters: FilterState,
    alert: AlertInput,
) -> _Sized | _NoEntry:
    """Filters, quantity, the max_contracts cap and the platform's ceiling for one new entry
    (or add). An order over the ceiling is refused, never reduced: a quantity that large is a
    mistake somewhere, and trading part of a mistake is still a mistake."""
    blocked = _blocked_by(side=side, settings=settings, filters=filters, alert=alert)
    if blocked is not None:
        return _NoEntry(Decision.BLOCKED, blocked)
    if adding:
        qty, how = _quantity(
            size=settings.add_size, size_name="add_size", settings=settings, alert=alert
        )
    else:
        qty, how = _quantity(
            size=settings.entry_size, size_name="entry_size", settings=settings, alert=alert
        )
    if qty == 0:
        return _NoEntry(Decision.ZERO_QUANTITY, f"quantity is 0 ({how}): no order")
    held = abs(current) if adding else 0
    cap = settings.max_contracts
    sized = _Sized(qty, f"{how} = {qty}")
    if cap is not None:
        room = cap - held
        if room <= 0:
            return _NoEntry(
                Decision.BLOCKED,
                f"at max contracts (max_contracts={cap}, position {_describe(current)})",
            )
        if qty > room:
            sized = _Sized(room, f"{how} = {qty}, reduced to {room} by max_contracts={cap}")
    ceiling = settings.order_qty_ceiling
    if sized.qty > ceiling.contracts:
        root = f" for {ceiling.root}" if ceiling.root != "" else ""
        return _NoEntry(
            Decision.BLOCKED,
            f"refused: {sized.qty} contracts is over the platform's safety ceiling of "
            f"{ceiling.contracts} per order{root} ({ceiling.source}); from {sized.how}",
        )
    return sized


def _exit_rule(settings: EffectiveSettings, alert: AlertInput) -> ExitRule:
    return ExitRule(
        take_profits=settings.take_profits,
        stop=settings.stop,
        break_even=settings.break_even,
        trailing=settings.trailing,
        multiplier=settings.multiplier,
        take_profit_price=alert.take_profit_price,
        stop_price=alert.stop_price,
    )


def decide(
    *,
    alert: AlertInput,
    settings: EffectiveSettings,
    broker: BrokerView,
    filters: FilterState,
    spec: ContractSpec,
) -> Plan:
    """The one decision point (D17): what this signal does to this subaccount+symbol.

    Guarantees (DESIGN.md §4): CLOSE is never an entry and is a no-op when flat (D46, D48);
    ``on_same_direction=ignore`` never adds (D42); a reenter and a reverse cancel the exits and
    flatten before the new entry, so exits never stack (D29, D45); filters block only new
    entries, never a close; ``|target_position| <= max_contracts`` whenever an order is planned;
    a quantity of 0 places nothing and says so (D41); an entry is never larger than the
    platform's ``order_qty_ceiling`` (refused with the reason; closing a position is never
    refused) and an alert's quantity never counts for more than ``alert_quantity_max``.
    Whenever the plan changes the position,
    ``cancel_order_ids`` holds every working order in ``broker.working_orders``.
    """
    del spec  # prices are the business of exits_for; kept in the signature for the executor
    action = alert.action
    inverted = ""
    if settings.invert_signals and action is not Action.CLOSE:
        action = Action.SELL if action is Action.BUY else Action.BUY
        inverted = f" (signal {alert.action} inverted to {action}: invert_signals)"
    pos = broker.net_pos
    cancels = tuple(order.order_id for order in broker.working_orders)

    def plan(
        decision: Decision,
        reason: str,
        *,
        flatten: bool = False,
        entry: EntryStep | None = None,
        target: int = pos,
    ) -> Plan:
        changes = flatten or entry is not None
        return Plan(
            decision=decision,
            reason=reason + inverted,
            cancel_order_ids=cancels if changes else (),
            flatten=flatten,
            entry=entry,
            exits=_exit_rule(settings, alert) if entry is not None else None,
            target_position=target,
        )

    if action is Action.CLOSE:
        if pos == 0:
            return plan(Decision.IGNORED, "already flat: CLOSE never opens a position")
        return plan(
            Decision.CLOSE,
            f"closed the {_describe(pos)} (exits cancelled)",
            flatten=True,
            target=0,
        )

    side = Side.BUY if action is Action.BUY else Side.SELL
    sign = 1 if side is Side.BUY else -1
    want = _word(sign)

    if pos == 0:
        sized = _size_entry(
            side=side, adding=False, current=0, settings=settings, filters=filters, alert=alert
        )
        if isinstance(sized, _NoEntry):
            return plan(sized.decision, f"not opening {want}: {sized.reason}")
        return plan(
            Decision.OPEN,
            f"open {want} {sized.qty} ({sized.how})",
            entry=EntryStep(side, sized.qty),
            target=sign * sized.qty,
        )

    if pos * sign > 0:  # same direction as the open position
        same = settings.on_same_direction
        if same is SameDirection.IGNORE:
            return plan(Decision.IGNORED, f"already {_describe(pos)} (on_same_direction=ignore)")
        if same is SameDirection.ADD:
            sized = _size_entry(
                side=side, adding=True, current=pos, settings=settings, filters=filters, alert=alert
            )
            if isinstance(sized, _NoEntry):
                return plan(sized.decision, f"not adding to the {_describe(pos)}: {sized.reason}")
            return plan(
                Decision.ADD,
                f"add {sized.qty} to the {_describe(pos)} ({sized.how}; on_same_direction=add); "
                "exits replaced for the whole position",
                entry=EntryStep(side, sized.qty),
                target=pos + sign * sized.qty,
            )
        sized = _size_entry(
            side=side, adding=False, current=pos, settings=settings, filters=filters, alert=alert
        )
        if isinstance(sized, _NoEntry):
            return plan(sized.decision, f"not re-entering the {_describe(pos)}: {sized.reason}")
        return plan(
            Decision.REENTER,
            f"closed the {_describe(pos)} and re-entered {want} {sized.qty} ({sized.how}; "
            "on_same_direction=reenter)",
            flatten=True,
            entry=EntryStep(side, sized.qty),
            target=sign * sized.qty,
        )

    # Opposite direction.
    opposite = settings.on_opposite_direction
    if opposite is OppositeDirection.IGNORE:
        return plan(
            Decision.IGNORED,
            f"opposite position open: {_describe(pos)} (on_opposite_direction=ignore)",
        )
    if opposite is OppositeDirection.CLOSE:
        return plan(
            Decision.CLOSE_OPPOSITE,
            f"closed the {_describe(pos)} (on_opposite_direction=close)",
            flatten=True,
            target=0,
        )
    sized = _size_entry(
        side=side, adding=False, current=pos, settings=settings, filters=filters, alert=alert
    )
    if isinstance(sized, _NoEntry):
        return plan(
            Decision.CLOSE_OPPOSITE,
            f"closed the {_describe(pos)}; not reversing to {want}: {sized.reason}",
            flatten=True,
            target=0,
        )
    return plan(
        Decision.REVERSE,
        f"closed the {_describe(pos)} and opened {want} {sized.qty} ({sized.how}; "
        "on_opposite_direction=reverse)",
        flatten=True,
        entry=EntryStep(side, sized.qty),
        target=sign * sized.qty,
    )
