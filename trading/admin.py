"""Trading records for the support desk: read-only, plus "disable a trader".

Support sees strategies, traders (with why they are off), signals with every per-account
outcome (decision, reason, the broker's verbatim words) and orders. Nothing is editable here;
the one write is the "Disable selected traders" action (permission ``trading.disable_trader``,
migration 0002). A strategy's webhook token is a secret URL: it is never shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.admin import ReadOnlyAdminMixin
from trading import control
from trading.models import (
    Fill,
    Order,
    OrderEvent,
    Position,
    Signal,
    SignalOutcome,
    Strategy,
    Trader,
    TraderAccount,
)

OUTCOME_FIELDS = (
    "symbol",
    "subaccount",
    "status",
    "decision",
    "reason",
    "position_before",
    "position_after",
    "error_type",
    "error_message",
    "broker_response",
    "finished_at",
)
ORDER_FIELDS = (
    "created_at",
    "subaccount",
    "symbol",
    "role",
    "side",
    "qty",
    "order_type",
    "price",
    "stop_price",
    "state",
    "filled_qty",
    "avg_fill_price",
    "broker_order_id",
    "error",
)


@admin.register(Strategy)
class StrategyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "user", "visibility", "enabled", "created_at")
    list_filter = ("visibility", "enabled")
    search_fields = ("name", "user__email")
    list_select_related = ("user",)
    # Every field but the webhook token (editable=False keeps it out of forms; excluded anyway).
    exclude = ("webhook_token",)


class TraderAccountInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TraderAccount
    extra = 0
    fields = ("subaccount", "multiplier", "max_contracts", "enabled")
    readonly_fields = fields


@admin.register(Trader)
class TraderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "user", "strategy", "enabled", "disabled_reason", "created_at")
    list_filter = ("enabled",)
    search_fields = ("name", "user__email", "strategy__name")
    list_select_related = ("user", "strategy")
    inlines = (TraderAccountInline,)
    actions = ("disable",)

    def has_disable_trader_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("trading.disable_trader"))

    @admin.action(description="Disable selected traders", permissions=["disable_trader"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Trader]) -> None:
        done = 0
        for trader in queryset.select_related("user"):
            control.trader_enabled_set(
                trader=trader,
                enabled=False,
                reason=f"support switched it off on {timezone.localdate():%Y-%m-%d}; "
                "contact support before switching it back on.",
            )
            done += 1
        self.message_user(
            request, f"{done} trader(s) switched off. Open positions were not touched."
        )


class SignalOutcomeInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = SignalOutcome
    extra = 0
    fields = ("trader_account", *OUTCOME_FIELDS)
    readonly_fields = fields
    show_change_link = True


class OrderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Order
    fk_name = "signal"
    extra = 0
    fields = ORDER_FIELDS
    readonly_fields = fields


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "strategy", "owner", "action", "symbol", "status", "is_test")
    list_filter = ("status", "is_test", "action")
    search_fields = ("strategy__name", "strategy__user__email", "symbol")
    list_select_related = ("strategy__user",)
    date_hierarchy = "received_at"
    fields = (
        "strategy",
        "received_at",
        "status",
        "action",
        "symbol",
        "is_test",
        "rejection_reason",
        "content_type",
        "raw_body",
        "parsed",
        "started_at",
        "completed_at",
    )
    readonly_fields = fields
    inlines = (SignalOutcomeInline, OrderInline)

    @admin.display(description="user", ordering="strategy__user__email")
    def owner(self, obj: Signal) -> Any:
        return obj.strategy.user


@admin.register(SignalOutcome)
class SignalOutcomeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "signal",
        "trader_account",
        "subaccount",
        "symbol",
        "status",
        "decision",
        "reason",
        "error_message",
        "finished_at",
    )
    list_filter = ("status", "decision")
    search_fields = ("trader_account__trader__user__email", "symbol", "reason", "error_message")
    list_select_related = ("signal", "trader_account__trader", "subaccount")
    fields = ("signal", "trader_account", *OUTCOME_FIELDS, "plan", "broker_snapshot")
    readonly_fields = fields


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    fields = ("at", "from_state", "to_state", "source", "broker_words")
    readonly_fields = fields
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ORDER_FIELDS
    list_filter = ("state", "role")
    search_fields = ("subaccount__connection__user__email", "symbol", "cl_ord_id", "error")
    list_select_related = ("subaccount",)
    fields = (
        "cl_ord_id",
        "signal",
        "outcome",
        "external",
        *ORDER_FIELDS,
        "broker_status",
        "state_changed_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (OrderEventInline,)


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The broker's positions as the user stream last reported them (read-only)."""

    list_display = (
        "subaccount",
        "symbol",
        "net_pos",
        "net_price",
        "realized_pnl",
        "problem",
        "updated_at",
    )
    list_filter = ("symbol",)
    search_fields = ("subaccount__connection__user__email", "subaccount__name", "symbol")
    list_select_related = ("subaccount",)
    readonly_fields = [f.name for f in Position._meta.fields]


@admin.register(Fill)
class FillAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("filled_at", "subaccount", "symbol", "side", "qty", "price", "broker_fill_id")
    search_fields = ("subaccount__connection__user__email", "subaccount__name", "symbol")
    list_select_related = ("subaccount",)
    readonly_fields = [f.name for f in Fill._meta.fields]
