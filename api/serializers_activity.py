"""Signals, orders, positions, fills and trades as the API shows them (read only)."""

from __future__ import annotations

from rest_framework import serializers

from analytics.models import Trade
from trading.models import Fill, Order, Position, Signal, SignalOutcome


class OrderSerializer(serializers.ModelSerializer[Order]):
    """One order: ours (written before it was sent) or placed by hand at the broker."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "subaccount",
            "account_name",
            "signal",
            "outcome",
            "broker_order_id",
            "symbol",
            "side",
            "qty",
            "order_type",
            "price",
            "stop_price",
            "role",
            "state",
            "external",
            "filled_qty",
            "avg_fill_price",
            "error",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class OutcomeSerializer(serializers.ModelSerializer[SignalOutcome]):
    """What a signal did on one of your trader accounts: decision, reason, orders, error."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)
    trader = serializers.IntegerField(source="trader_account.trader_id", read_only=True)
    orders = OrderSerializer(many=True, read_only=True)

    class Meta:
        model = SignalOutcome
        fields = (
            "id",
            "trader_account",
            "trader",
            "subaccount",
            "account_name",
            "symbol",
            "status",
            "decision",
            "reason",
            "position_before",
            "position_after",
            "error_type",
            "error_message",
            "started_at",
            "finished_at",
            "orders",
        )
        read_only_fields = fields


class SignalSerializer(serializers.ModelSerializer[Signal]):
    """A received alert and, per your account, what it did."""

    strategy_name = serializers.CharField(source="strategy.name", read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True, source="own_outcomes")
    parsed = serializers.JSONField(read_only=True, help_text="The alert as understood.")

    class Meta:
        model = Signal
        fields = (
            "id",
            "strategy",
            "strategy_name",
            "action",
            "symbol",
            "status",
            "rejection_reason",
            "is_test",
            "parsed",
            "received_at",
            "started_at",
            "completed_at",
            "outcomes",
        )
        read_only_fields = fields


class PositionSerializer(serializers.ModelSerializer[Position]):
    """An open position as the broker last reported it (the live mirror)."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)

    class Meta:
        model = Position
        fields = (
            "id",
            "subaccount",
            "account_name",
            "contract_id",
            "symbol",
            "net_pos",
            "net_price",
            "realized_pnl",
            "problem",
            "updated_at",
        )
        read_only_fields = fields


class FillSerializer(serializers.ModelSerializer[Fill]):
    """One execution at the broker."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)
    strategy = serializers.SerializerMethodField()

    class Meta:
        model = Fill
        fields = (
            "id",
            "subaccount",
            "account_name",
            "order",
            "strategy",
            "broker_fill_id",
            "contract_id",
            "symbol",
            "side",
            "qty",
            "price",
            "filled_at",
        )
        read_only_fields = fields

    def get_strategy(self, fill: Fill) -> int | None:
        """The strategy whose signal placed the order, if any."""
        order = fill.order
        signal = order.signal if order is not None else None
        return signal.strategy_id if signal is not None else None


class TradeSerializer(serializers.ModelSerializer[Trade]):
    """A round trip: from flat to flat on one contract (open while not flat again)."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)

    class Meta:
        model = Trade
        fields = (
            "id",
            "subaccount",
            "account_name",
            "contract_id",
            "symbol",
            "direction",
            "opened_at",
            "closed_at",
            "max_qty",
            "contracts",
            "entry_price",
            "exit_price",
            "points",
            "gross_pnl",
            "fees",
            "net_pnl",
            "mfe",
            "mae",
        )
        read_only_fields = fields
