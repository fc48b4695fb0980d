"""Strategies and traders as the API shows and takes them (model field names, D21)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trading.models import (
    DIRECTION_FILTER_CHOICES,
    DISTANCE_UNIT_CHOICES,
    OPPOSITE_DIRECTION_CHOICES,
    SAME_DIRECTION_CHOICES,
    SWITCHABLE_OFF,
    SettingsFields,
    Strategy,
    Trader,
    TraderAccount,
)
from trading.views_ui import webhook_url

SETTINGS = SettingsFields.SETTING_NAMES


class TakeProfitLevelSerializer(serializers.Serializer[Any]):
    distance = serializers.CharField(
        allow_blank=True, help_text="A decimal, in `unit` (empty or 0 with unit `price`)."
    )
    unit = serializers.ChoiceField(choices=DISTANCE_UNIT_CHOICES, default="ticks")
    qty = serializers.CharField(help_text="A decimal, in `qty_unit`.")
    qty_unit = serializers.ChoiceField(
        choices=[("contracts", "contracts"), ("percent", "percent")], default="contracts"
    )


def _time_windows() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        allow_null=True,
        required=False,
        help_text='[["09:30", "11:30"]]: start and end (HH:MM) in your time zone; an end '
        "before the start crosses midnight. null: the default (any time); []: any time.",
    )


def _take_profits() -> TakeProfitLevelSerializer:
    return TakeProfitLevelSerializer(
        many=True,
        allow_null=True,
        required=False,
        help_text="Up to 5 levels. null: the default; []: no take-profit.",
    )


class SettingsInput(serializers.Serializer[Any]):
    """Every trading setting; null means the default (on a trader: inherit the strategy)."""

    entry_size = serializers.IntegerField(allow_null=True, required=False, min_value=0)
    add_size = serializers.IntegerField(allow_null=True, required=False, min_value=0)
    use_alert_quantity = serializers.BooleanField(allow_null=True, required=False)
    take_profits = _take_profits()
    stop_distance = serializers.DecimalField(
        max_digits=14, decimal_places=6, allow_null=True, required=False
    )
    stop_unit = serializers.ChoiceField(
        choices=DISTANCE_UNIT_CHOICES, allow_null=True, required=False
    )
    break_even_trigger_ticks = serializers.IntegerField(allow_null=True, required=False)
    break_even_offset_ticks = serializers.IntegerField(allow_null=True, required=False)
    trailing_trigger_ticks = serializers.IntegerField(allow_null=True, required=False)
    trailing_step_ticks = serializers.IntegerField(allow_null=True, required=False)
    on_same_direction = serializers.ChoiceField(
        choices=SAME_DIRECTION_CHOICES, allow_null=True, required=False
    )
    on_opposite_direction = serializers.ChoiceField(
        choices=OPPOSITE_DIRECTION_CHOICES, allow_null=True, required=False
    )
    invert_signals = serializers.BooleanField(allow_null=True, required=False)
    direction_filter = serializers.ChoiceField(
        choices=DIRECTION_FILTER_CHOICES, allow_null=True, required=False
    )
    time_windows = _time_windows()
    flatten_after_cutoff = serializers.BooleanField(allow_null=True, required=False)
    cooldown_seconds = serializers.IntegerField(allow_null=True, required=False)
    max_signals_per_day = serializers.IntegerField(allow_null=True, required=False)
    max_daily_loss = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, required=False
    )
    symbol_override = serializers.CharField(allow_null=True, required=False, max_length=32)


class StrategyInput(SettingsInput):
    """A strategy's fields; a PATCH sends only the ones it changes."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Strategy.Visibility.choices, required=False)
    enabled = serializers.BooleanField(required=False)
    alert_may_set_quantity = serializers.BooleanField(required=False)
    alert_may_set_take_profit = serializers.BooleanField(required=False)
    alert_may_set_stop = serializers.BooleanField(required=False)
    alert_quantity_max = serializers.IntegerField(allow_null=True, required=False)
    symbol_allow_list = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False
    )


class TraderInput(SettingsInput):
    """A trader's fields; a PATCH sends only the ones it changes."""

    name = serializers.CharField(max_length=100)
    strategy = serializers.IntegerField(help_text="Your strategy's id, or a public one's.")
    enabled = serializers.BooleanField(required=False)
    restore_missing_exits = serializers.BooleanField(required=False)
    switched_off = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SWITCHABLE_OFF)), required=False
    )


class _SettingsOutput(serializers.ModelSerializer[Any]):
    take_profits = _take_profits()
    time_windows = _time_windows()


class StrategySerializer(_SettingsOutput):
    """A strategy: its secret webhook URL and the default settings of its traders."""

    webhook_url = serializers.SerializerMethodField(
        help_text="Paste it into TradingView's alert; keep it secret (rotate-token replaces it)."
    )
    symbol_allow_list = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Strategy
        fields = (
            "id",
            "name",
            "description",
            "visibility",
            "enabled",
            "webhook_url",
            "alert_may_set_quantity",
            "alert_may_set_take_profit",
            "alert_may_set_stop",
            "alert_quantity_max",
            "symbol_allow_list",
            *SETTINGS,
            "created_at",
            "archived_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_webhook_url(self, strategy: Strategy) -> str:
        return webhook_url(strategy)


class TraderAccountSerializer(serializers.ModelSerializer[TraderAccount]):
    """A trader on one trading account: multiplier, cap (null = no cap) and on/off."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)

    class Meta:
        model = TraderAccount
        fields = (
            "id",
            "trader",
            "subaccount",
            "account_name",
            "multiplier",
            "max_contracts",
            "enabled",
        )
        read_only_fields = fields


class TraderSerializer(_SettingsOutput):
    """A trader: your use of a strategy on your accounts, with its own settings (null =
    the strategy's)."""

    strategy_name = serializers.CharField(source="strategy.name", read_only=True)
    switched_off = serializers.ListField(child=serializers.CharField())
    accounts = TraderAccountSerializer(many=True, read_only=True)

    class Meta:
        model = Trader
        fields = (
            "id",
            "name",
            "strategy",
            "strategy_name",
            "enabled",
            "disabled_reason",
            "switched_off",
            "restore_missing_exits",
            *SETTINGS,
            "accounts",
            "created_at",
            "archived_at",
        )
        read_only_fields = fields


class TraderAccountInput(serializers.Serializer[Any]):
    """Put a trader on one of your trading accounts (create), or change it (PATCH: only
    multiplier, max_contracts and enabled)."""

    trader = serializers.IntegerField(required=False, help_text="Your trader's id (create only).")
    subaccount = serializers.IntegerField(
        required=False, help_text="Your trading account's id (create only)."
    )
    multiplier = serializers.DecimalField(max_digits=8, decimal_places=3, required=False)
    max_contracts = serializers.IntegerField(allow_null=True, required=False)
    enabled = serializers.BooleanField(required=False)


class TestAlertInput(serializers.Serializer[Any]):
    """A sample alert: buy, sell or close on a symbol (default: the strategy's)."""

    action = serializers.ChoiceField(choices=["buy", "sell", "close"], default="buy")
    symbol = serializers.CharField(required=False, allow_blank=True, max_length=40)


class TestAlertResult(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    reason = serializers.CharField(help_text="Why it was rejected; empty otherwise.")
    signal = serializers.IntegerField(help_text="The signal's id (see /api/signals/{id}/).")


class PreviewRow(serializers.Serializer[Any]):
    trader_account = serializers.IntegerField()
    account_name = serializers.CharField()
    symbol = serializers.CharField()
    position = serializers.IntegerField(allow_null=True, help_text="At the broker, now.")
    decision = serializers.CharField()
    reason = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField(), help_text="What would be sent.")
    error = serializers.CharField(help_text="Why this account could not be previewed.")


class PreviewResult(serializers.Serializer[Any]):
    body = serializers.CharField(help_text="The alert body previewed.")
    accounts = PreviewRow(many=True)
