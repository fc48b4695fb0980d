"""Strategies, traders, signals and orders (DESIGN.md §3).

Every setting has one name from model to form to API to engine (D21): the ``SettingsFields``
below are the ``trading.settings_resolution.SettingsLayer`` fields. On a Trader, ``None``
inherits the strategy's value; on a Strategy, ``None`` means the documented default. 0 is a
value everywhere (D06, D41).
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Subaccount, User
from accounts.tenancy import TenantQuerySet
from trading.settings_resolution import (
    DirectionFilter,
    DistanceUnit,
    OppositeDirection,
    SameDirection,
)


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


# The four setting enums are the engine's (trading/settings_resolution.py, one set); the
# database stores their values and the forms show these words.
SAME_DIRECTION_CHOICES = [
    (SameDirection.ADD.value, "Add to the position (DCA)"),
    (SameDirection.IGNORE.value, "Ignore it"),
    (SameDirection.REENTER.value, "Close and re-enter"),
]
OPPOSITE_DIRECTION_CHOICES = [
    (OppositeDirection.REVERSE.value, "Reverse the position"),
    (OppositeDirection.CLOSE.value, "Close the position only"),
    (OppositeDirection.IGNORE.value, "Ignore it"),
]
DIRECTION_FILTER_CHOICES = [
    (DirectionFilter.BOTH.value, "Long and short"),
    (DirectionFilter.LONG_ONLY.value, "Long only"),
    (DirectionFilter.SHORT_ONLY.value, "Short only"),
]
DISTANCE_UNIT_CHOICES = [
    (DistanceUnit.TICKS.value, "ticks"),
    (DistanceUnit.POINTS.value, "points"),
    (DistanceUnit.PERCENT.value, "percent"),
    (DistanceUnit.PRICE.value, "the alert's price"),
]


class SettingsFields(models.Model):
    """Every trading setting, nullable: on a Trader None inherits, on a Strategy it is the default."""

    entry_size = models.PositiveIntegerField(null=True, blank=True)
    add_size = models.PositiveIntegerField(null=True, blank=True)
    use_alert_quantity = models.BooleanField(null=True, blank=True)
    # [{"distance": "8", "unit": "ticks", "qty": "50", "qty_unit": "percent"}, ...] (max 5)
    take_profits = models.JSONField(null=True, blank=True)
    stop_distance = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    stop_unit = models.CharField(max_length=8, choices=DISTANCE_UNIT_CHOICES, null=True, blank=True)
    break_even_trigger_ticks = models.PositiveIntegerField(null=True, blank=True)
    break_even_offset_ticks = models.IntegerField(null=True, blank=True)
    trailing_trigger_ticks = models.PositiveIntegerField(null=True, blank=True)
    trailing_step_ticks = models.PositiveIntegerField(null=True, blank=True)
    on_same_direction = models.CharField(
        max_length=8, choices=SAME_DIRECTION_CHOICES, null=True, blank=True
    )
    on_opposite_direction = models.CharField(
        max_length=8, choices=OPPOSITE_DIRECTION_CHOICES, null=True, blank=True
    )
    invert_signals = models.BooleanField(null=True, blank=True)
    direction_filter = models.CharField(
        max_length=10, choices=DIRECTION_FILTER_CHOICES, null=True, blank=True
    )
    # [["09:30", "11:30"], ["13:00", "15:45"]] in the owner's time zone; end < start crosses midnight
    time_windows = models.JSONField(null=True, blank=True)
    flatten_after_cutoff = models.BooleanField(null=True, blank=True)
    cooldown_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_signals_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_daily_loss = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    symbol_override = models.CharField(max_length=32, null=True, blank=True)

    SETTING_NAMES: ClassVar[tuple[str, ...]] = (
        "entry_size",
        "add_size",
        "use_alert_quantity",
        "take_profits",
        "stop_distance",
        "stop_unit",
        "break_even_trigger_ticks",
        "break_even_offset_ticks",
        "trailing_trigger_ticks",
        "trailing_step_ticks",
        "on_same_direction",
        "on_opposite_direction",
        "invert_signals",
        "direction_filter",
        "time_windows",
        "flatten_after_cutoff",
        "cooldown_seconds",
        "max_signals_per_day",
        "max_daily_loss",
        "symbol_override",
    )

    class Meta:
        abstract = True


class Strategy(SettingsFields):
    """A signal source: one secret webhook URL and the default settings of its traders."""

    # The largest "most contracts an alert may ask for" the form accepts.
    ALERT_QUANTITY_MAX_LIMIT: ClassVar[int] = 1000

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"
        PREMIUM = "premium", "Premium (needs a plan)"

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="strategies")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    webhook_token = models.CharField(
        max_length=64, unique=True, default=new_webhook_token, editable=False
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    enabled = models.BooleanField(default=True)
    # Which alert fields may override the settings.
    alert_may_set_quantity = models.BooleanField(default=False)
    alert_may_set_take_profit = models.BooleanField(default=False)
    alert_may_set_stop = models.BooleanField(default=False)
    # The most contracts an alert's quantity may ask for (before the multiplier); more is
    # reduced to it. Required by the form when the alert may set the quantity.
    alert_quantity_max = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(ALERT_QUANTITY_MAX_LIMIT)],
    )
    # Contract roots this strategy trades (["NQ", "MNQ"]); an alert for another root is
    # rejected at intake. Empty: any known root.
    symbol_allow_list = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived, never deleted: its signals (and their outcomes and orders) are history. An
    # archived strategy's webhook stores nothing; it leaves every list.
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name", "id")
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(fields=("user", "name"), name="strategy_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


# Settings a trader can switch off where its strategy sets them (None inherits, so "off" needs
# its own word): name -> (label, the model fields it covers).
SWITCHABLE_OFF: dict[str, tuple[str, tuple[str, ...]]] = {
    "stop": ("Stop", ("stop_distance", "stop_unit")),
    "break_even": ("Break-even", ("break_even_trigger_ticks", "break_even_offset_ticks")),
    "trailing": ("Trailing stop", ("trailing_trigger_ticks", "trailing_step_ticks")),
    "cooldown_seconds": ("Cooldown", ("cooldown_seconds",)),
    "max_signals_per_day": ("Max signals per day", ("max_signals_per_day",)),
    "max_daily_loss": ("Max daily loss", ("max_daily_loss",)),
}


class Trader(SettingsFields):
    """One user's use of a strategy on their accounts, with overrides (None = inherit)."""

    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="traders")
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="traders")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    # Why it was switched off by the system (membership lost, ...); empty when the user did it.
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    # Names from SWITCHABLE_OFF this trader switches off, overriding the strategy's value.
    switched_off = models.JSONField(default=list, blank=True)
    # Reconciliation re-places our stop when it is found cancelled at the broker on a position
    # this trader opened (off: the position is only flagged).
    restore_missing_exits = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived (switched off and out of every list), never deleted: its outcomes are history.
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(fields=("user", "name"), name="trader_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class TraderAccount(models.Model):
    """A trader on one trading account: multiplier, cap (None = no cap, D37), on/off."""

    TENANT_PATH: ClassVar[str] = "trader__user"

    trader = models.ForeignKey(Trader, on_delete=models.CASCADE, related_name="accounts")
    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="trader_accounts"
    )
    multiplier = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    max_contracts = models.PositiveIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=("trader", "subaccount"), name="trader_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.trader} on {self.subaccount}"

    def clean(self) -> None:
        if self.subaccount.connection.user_id != self.trader.user_id:
            raise ValidationError("That trading account belongs to someone else.")


class Signal(models.Model):
    """One received alert, stored before anything else happens: good, bad and duplicate-safe."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        REJECTED = "rejected", "Rejected"
        EXECUTING = "executing", "Executing"
        # Final summaries of the outcomes (services: signal_status_summarise).
        DONE = "done", "Done"
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        # An order call got no answer: looked up until the broker says (never abandoned).
        IN_DOUBT = "in_doubt", "In doubt"
        EXPIRED = "expired", "Expired"

    # Statuses after which nothing more happens to the signal (pages stop polling).
    FINAL_STATUSES: ClassVar[frozenset[str]] = frozenset(
        {Status.REJECTED, Status.DONE, Status.PARTLY_FAILED, Status.FAILED, Status.EXPIRED}
    )

    TENANT_PATH: ClassVar[str] = "strategy__user"

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="signals")
    # Set on a signal Bracketeer makes for one trader only (flatten after the cutoff): it runs
    # on that trader's accounts, not on every follower of the strategy.
    for_trader = models.ForeignKey(
        "Trader", on_delete=models.CASCADE, null=True, blank=True, related_name="own_signals"
    )
    idempotency_key = models.CharField(max_length=128, unique=True)
    raw_body = models.TextField()
    content_type = models.CharField(max_length=100, blank=True, default="")
    parsed = models.JSONField(null=True, blank=True)
    action = models.CharField(max_length=8, blank=True, default="")
    symbol = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    rejection_reason = models.TextField(blank=True, default="")
    is_test = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Milliseconds from receipt to each stage of the execution (trading/fanout.py's Stopwatch:
    # picked, outcomes, locked, read, decided, entry_rows, entries_answered, filled, ...).
    timings = models.JSONField(default=dict, blank=True)
    # The worker process executing it ("host:pid" of its heartbeat): a sweep resumes the signal
    # within seconds when that worker's heartbeat stops.
    executing_by = models.CharField(max_length=100, blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = [  # the sweep's look-up of unfinished signals, every few seconds
            models.Index(
                fields=["status"],
                condition=models.Q(status__in=["executing", "in_doubt"]),
                name="signal_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"signal {self.pk} {self.action} {self.symbol}"


class SignalOutcome(models.Model):
    """What one signal did on one trader account: decision, reason, orders, verbatim error."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SAFETY_BLOCK = "safety_block", "Safety block"
        # An order call went unanswered: looked up with backoff until the broker says.
        IN_DOUBT = "in_doubt", "In doubt"

    TENANT_PATH: ClassVar[str] = "trader_account__trader__user"

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="outcomes")
    trader_account = models.ForeignKey(
        TraderAccount, on_delete=models.CASCADE, related_name="outcomes"
    )
    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="outcomes")
    symbol = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.PENDING)
    decision = models.CharField(max_length=16, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    # The broker state the decision was made on, and the plan, so a crashed execution resumes
    # with the same decision instead of re-deciding on a position it already changed.
    broker_snapshot = models.JSONField(null=True, blank=True)
    plan = models.JSONField(null=True, blank=True)
    position_before = models.IntegerField(null=True, blank=True)
    position_after = models.IntegerField(null=True, blank=True)
    error_type = models.CharField(max_length=100, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    broker_response = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Since when the outcome is in doubt (an unanswered order call), and how many look-ups ran.
    in_doubt_since = models.DateTimeField(null=True, blank=True, db_index=True)
    lookups = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("signal", "trader_account"), name="one_outcome_per_account"
            )
        ]
        indexes = [  # the sweep's look-up of in-doubt outcomes
            models.Index(
                fields=["status"],
                condition=models.Q(status="in_doubt"),
                name="outcome_in_doubt",
            )
        ]

    def __str__(self) -> str:
        return f"signal {self.signal_id} on account {self.trader_account_id}: {self.decision or self.status}"


# Orders and the broker mirror live in their own modules, registered with this app here.
from trading.models_mirror import CashBalance, Fill, Position  # noqa: E402, F401
from trading.models_orders import Order, OrderEvent  # noqa: E402, F401
