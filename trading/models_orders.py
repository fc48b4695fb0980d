"""Orders: our record of each broker order and the log of its state moves.

The state machine is `Order.TRANSITIONS`; the only code that moves a state is
`trading.order_states` (one owner per fact, like NautilusTrader's order state table).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from accounts.models import Subaccount
from accounts.tenancy import TenantQuerySet
from trading.models import Signal, SignalOutcome


class Order(models.Model):
    """Our record of one broker order: written before the broker call (exactly-once), or on
    the user stream for an order placed by hand at the broker (``external``). Its state moves
    only through `trading.order_states` (one owner per fact)."""

    class Role(models.TextChoices):
        ENTRY = "entry", "Entry"
        TAKE_PROFIT = "take_profit", "Take-profit"
        STOP = "stop", "Stop"
        FLATTEN = "flatten", "Close (flatten)"
        EXTERNAL = "external", "Placed at the broker"

    class State(models.TextChoices):
        CREATED = "created", "Created (not sent)"
        # Rows are born here (one insert just before the call): a run killed between the
        # insert and the call cannot tell "never sent" from "sent", so it looks it up.
        SUBMITTED = "submitted", "Sent, answer unknown"
        # The call was made and its answer lost (timeout): looked up by clOrdId, never re-sent.
        IN_DOUBT = "in_doubt", "In doubt: looking it up"
        WORKING = "working", "Working"
        PARTIALLY_FILLED = "partially_filled", "Partly filled"
        CANCEL_PENDING = "cancel_pending", "Cancel sent"
        FILLED = "filled", "Filled"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        # Looked up for the whole look-up schedule and the broker never had it.
        NEVER_PLACED = "never_placed", "Never reached the broker"

    FINAL_STATES: ClassVar[frozenset[str]] = frozenset(
        {State.FILLED, State.CANCELLED, State.REJECTED, State.EXPIRED}
    )
    # Working at the broker (or maybe: a row whose call is unanswered).
    OPEN_STATES: ClassVar[frozenset[str]] = frozenset(
        {State.WORKING, State.PARTIALLY_FILLED, State.CANCEL_PENDING}
    )

    # The explicit state machine: a transition not listed here raises (CONVENTIONS.md, Orders).
    # NEVER_PLACED is final for us, but the broker's word wins: an order that turns up after
    # all (the stream or a reconciliation sees it) takes the state the broker gives it.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        State.CREATED: frozenset(
            {State.SUBMITTED, State.WORKING, State.PARTIALLY_FILLED, State.FILLED, State.REJECTED}
        ),
        State.SUBMITTED: frozenset(
            {
                State.IN_DOUBT,
                State.WORKING,
                State.PARTIALLY_FILLED,
                State.CANCEL_PENDING,
                State.FILLED,
                State.CANCELLED,
                State.REJECTED,
                State.EXPIRED,
            }
        ),
        State.IN_DOUBT: frozenset(
            {
                State.WORKING,
                State.PARTIALLY_FILLED,
                State.CANCEL_PENDING,
                State.FILLED,
                State.CANCELLED,
                State.REJECTED,
                State.EXPIRED,
                State.NEVER_PLACED,
            }
        ),
        State.WORKING: frozenset(
            {
                State.PARTIALLY_FILLED,
                State.CANCEL_PENDING,
                State.FILLED,
                State.CANCELLED,
                State.REJECTED,
                State.EXPIRED,
            }
        ),
        State.PARTIALLY_FILLED: frozenset(
            {State.CANCEL_PENDING, State.FILLED, State.CANCELLED, State.EXPIRED}
        ),
        State.CANCEL_PENDING: frozenset(
            {
                State.WORKING,  # the cancel was refused: still working
                State.PARTIALLY_FILLED,
                State.FILLED,
                State.CANCELLED,
                State.EXPIRED,
            }
        ),
        State.FILLED: frozenset(),
        State.CANCELLED: frozenset(),
        State.REJECTED: frozenset(),
        State.EXPIRED: frozenset(),
        State.NEVER_PLACED: frozenset(
            {
                State.WORKING,
                State.PARTIALLY_FILLED,
                State.FILLED,
                State.CANCELLED,
                State.REJECTED,
                State.EXPIRED,
            }
        ),
    }
    TENANT_PATH: ClassVar[str] = "subaccount__connection__user"

    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="orders")
    signal = models.ForeignKey(
        Signal, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    outcome = models.ForeignKey(
        SignalOutcome, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    cl_ord_id = models.CharField(max_length=64, unique=True)
    broker_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # The broker's one-cancels-other link shared by the two orders of a pair (from the stream).
    broker_oco_id = models.BigIntegerField(null=True, blank=True)
    contract_id = models.BigIntegerField(null=True, blank=True)
    symbol = models.CharField(max_length=40)
    side = models.CharField(max_length=4)
    qty = models.PositiveIntegerField()
    order_type = models.CharField(max_length=10)
    price = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    stop_price = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    role = models.CharField(max_length=12, choices=Role.choices)
    # Placed by hand at the broker (or by another app): seen on the stream, never ours to act on.
    external = models.BooleanField(default=False)
    # Placed to copy a leader (a copied fill, a copied exit, a resync): its fills are never
    # copied on (D28).
    for_copy = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED)
    # The broker's last ``ordStatus`` and text, in its own words.
    broker_status = models.CharField(max_length=20, blank=True, default="")
    error = models.TextField(blank=True, default="")
    filled_qty = models.PositiveIntegerField(default=0)
    avg_fill_price = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.role} {self.side} {self.qty} {self.symbol} ({self.state})"


class OrderEvent(models.Model):
    """One move of an Order's state (or a correction of it): when, from what, to what, who
    moved it, and the broker's own words. Written by `trading.order_states` only."""

    class Source(models.TextChoices):
        CALL = "call", "Our broker call"
        LOOKUP = "lookup", "Look-up by clOrdId"
        STREAM = "stream", "User stream"
        RECONCILE = "reconcile", "Reconciliation"
        READ = "read", "Broker read"

    order = models.ForeignKey("trading.Order", on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    source = models.CharField(max_length=10, choices=Source.choices)
    broker_words = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state} ({self.source})"
