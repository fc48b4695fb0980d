"""Read-only history and the live mirror: /api/signals/, /api/positions/,
/api/working-orders/, /api/fills/, /api/trades/.

Every list starts from a selector that takes the user (the pages' own): another user's rows
never appear, whatever filter is asked for.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins

from accounts.models import User
from accounts.tenancy import tenant_queryset
from analytics.models import Trade
from analytics.selectors import TradeScope, trades_in, zone_of
from api.base import TenantViewSet, filters
from api.schema import ACCOUNT, DATE_FROM, DATE_TO, STRATEGY, doc, example
from api.serializers_activity import (
    FillSerializer,
    OrderSerializer,
    PositionSerializer,
    SignalSerializer,
    TradeSerializer,
)
from trading.models import Fill, Order, Position, Signal
from trading.selectors import live_subaccounts
from trading.views_signals import own_outcomes, signals_visible


def _moment(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def in_days(rows: QuerySet[Any], field: str, user: User, given: dict[str, Any]) -> QuerySet[Any]:
    """``rows`` whose ``field`` falls on the given local days (the user's time zone)."""
    zone = zone_of(user=user)
    if given.get("date_from") is not None:
        rows = rows.filter(**{f"{field}__gte": _moment(given["date_from"], zone)})
    if given.get("date_to") is not None:
        rows = rows.filter(**{f"{field}__lt": _moment(given["date_to"] + timedelta(days=1), zone)})
    return rows


ORDER = {
    "id": 31,
    "subaccount": 11,
    "account_name": "DEMO1001",
    "signal": 412,
    "outcome": 77,
    "broker_order_id": 90123,
    "symbol": "MNQZ6",
    "side": "Sell",
    "qty": 1,
    "order_type": "Limit",
    "price": "21010.00000000",
    "stop_price": None,
    "role": "take_profit",
    "state": "working",
    "external": False,
    "filled_qty": 0,
    "avg_fill_price": None,
    "error": "",
    "created_at": "2026-12-01T14:31:02Z",
    "updated_at": "2026-12-01T14:31:02Z",
}
SIGNAL = {
    "id": 412,
    "strategy": 7,
    "strategy_name": "MNQ breakout",
    "action": "buy",
    "symbol": "MNQ1!",
    "status": "done",
    "rejection_reason": "",
    "is_test": False,
    "parsed": {"alert": {"action": "buy", "symbol": "MNQ1!"}, "fields": {}},
    "received_at": "2026-12-01T14:31:00Z",
    "started_at": "2026-12-01T14:31:00Z",
    "completed_at": "2026-12-01T14:31:02Z",
    "outcomes": [
        {
            "id": 77,
            "trader_account": 3,
            "trader": 5,
            "subaccount": 11,
            "account_name": "DEMO1001",
            "symbol": "MNQZ6",
            "status": "done",
            "decision": "enter",
            "reason": "",
            "position_before": 0,
            "position_after": 1,
            "error_type": "",
            "error_message": "",
            "started_at": "2026-12-01T14:31:00Z",
            "finished_at": "2026-12-01T14:31:02Z",
            "orders": [ORDER],
        }
    ],
}
POSITION = {
    "id": 8,
    "subaccount": 11,
    "account_name": "DEMO1001",
    "contract_id": 4012,
    "symbol": "MNQZ6",
    "net_pos": 1,
    "net_price": "21000.25000000",
    "realized_pnl": "0.00",
    "problem": "",
    "updated_at": "2026-12-01T14:31:02Z",
}
FILL = {
    "id": 51,
    "subaccount": 11,
    "account_name": "DEMO1001",
    "order": 30,
    "strategy": 7,
    "broker_fill_id": 70001,
    "contract_id": 4012,
    "symbol": "MNQZ6",
    "side": "Buy",
    "qty": 1,
    "price": "21000.25000000",
    "filled_at": "2026-12-01T14:31:01Z",
}
TRADE = {
    "id": 19,
    "subaccount": 11,
    "account_name": "DEMO1001",
    "contract_id": 4012,
    "symbol": "MNQZ6",
    "direction": 1,
    "opened_at": "2026-12-01T14:31:01Z",
    "closed_at": "2026-12-01T14:40:12Z",
    "max_qty": 1,
    "contracts": 2,
    "entry_price": "21000.25000000",
    "exit_price": "21005.25000000",
    "points": "5.00000000",
    "gross_pnl": "10.00",
    "fees": "1.24",
    "net_pnl": "8.76",
    "mfe": "14.00",
    "mae": "-3.00",
}
SIGNAL_STATUS = OpenApiParameter(
    "status", str, enum=Signal.Status.values, description="Only signals in this status."
)
TRADER = OpenApiParameter("trader", int, description="Only trades on this trader's accounts.")
TRADE_STATUS = OpenApiParameter(
    "status", str, enum=["open", "closed"], description="Open or closed trades only."
)


class _ReadOnly(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    pass


@extend_schema_view(
    list=doc(
        summary="List signals",
        description="Alerts of your strategies and alerts that reached your accounts, newest "
        "first, each with what it did on each of your accounts (outcomes and orders).",
        response=SignalSerializer(many=True),
        parameters=[STRATEGY, SIGNAL_STATUS, DATE_FROM, DATE_TO],
        examples=[example("A signal", SIGNAL)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a signal",
        description="One signal with its outcomes on your accounts and their orders.",
        response=SignalSerializer,
        examples=[example("A signal", SIGNAL)],
        errors=(404,),
    ),
)
class SignalViewSet(_ReadOnly):
    queryset_model = Signal
    serializer_class = SignalSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Signal]:
        outcomes = own_outcomes(user).prefetch_related(
            Prefetch("orders", queryset=Order.objects.select_related("subaccount").order_by("id"))
        )
        signals = signals_visible(user=user).select_related("strategy")
        if self.action == "list":
            given = filters(self.request)
            if given.get("strategy") is not None:
                signals = signals.filter(strategy_id=given["strategy"])
            if given.get("status"):
                signals = signals.filter(status=given["status"])
            signals = in_days(signals, "received_at", user, given)
        return signals.prefetch_related(
            Prefetch("outcomes", queryset=outcomes, to_attr="own_outcomes")
        ).order_by("-received_at", "-id")


@extend_schema_view(
    list=doc(
        summary="List open positions",
        description="Open positions (net not 0) on your trading accounts, as the broker last "
        "reported them on its live stream.",
        response=PositionSerializer(many=True),
        parameters=[ACCOUNT],
        examples=[example("A position", POSITION)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get an open position",
        description="One open position on one of your accounts.",
        response=PositionSerializer,
        examples=[example("A position", POSITION)],
        errors=(404,),
    ),
)
class PositionViewSet(_ReadOnly):
    queryset_model = Position
    serializer_class = PositionSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Position]:
        positions = (
            Position.objects.filter(subaccount__in=live_subaccounts(user=user))
            .exclude(net_pos=0)
            .select_related("subaccount")
        )
        account = filters(self.request).get("account") if self.action == "list" else None
        if account is not None:
            positions = positions.filter(subaccount_id=account)
        return positions.order_by("subaccount_id", "symbol", "id")


@extend_schema_view(
    list=doc(
        summary="List working orders",
        description="Orders working at the broker now on your trading accounts (the live "
        "mirror), ours and those placed by hand.",
        response=OrderSerializer(many=True),
        parameters=[ACCOUNT, STRATEGY],
        examples=[example("A take-profit", ORDER)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a working order",
        description="One order working at the broker on one of your accounts.",
        response=OrderSerializer,
        examples=[example("A take-profit", ORDER)],
        errors=(404,),
    ),
)
class WorkingOrderViewSet(_ReadOnly):
    queryset_model = Order
    serializer_class = OrderSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Order]:
        orders = Order.objects.filter(
            subaccount__in=live_subaccounts(user=user), state__in=Order.OPEN_STATES
        ).select_related("subaccount")
        if self.action == "list":
            given = filters(self.request)
            if given.get("account") is not None:
                orders = orders.filter(subaccount_id=given["account"])
            if given.get("strategy") is not None:
                orders = orders.filter(signal__strategy_id=given["strategy"])
        return orders.order_by("subaccount_id", "symbol", "id")


@extend_schema_view(
    list=doc(
        summary="List fills",
        description="Executions on your trading accounts, newest first.",
        response=FillSerializer(many=True),
        parameters=[DATE_FROM, DATE_TO, STRATEGY, ACCOUNT],
        examples=[example("A fill", FILL)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a fill",
        description="One execution on one of your accounts.",
        response=FillSerializer,
        examples=[example("A fill", FILL)],
        errors=(404,),
    ),
)
class FillViewSet(_ReadOnly):
    queryset_model = Fill
    serializer_class = FillSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Fill]:
        fills = tenant_queryset(model=Fill, user=user).select_related("subaccount", "order__signal")
        if self.action == "list":
            given = filters(self.request)
            if given.get("strategy") is not None:
                fills = fills.filter(order__signal__strategy_id=given["strategy"])
            if given.get("account") is not None:
                fills = fills.filter(subaccount_id=given["account"])
            fills = in_days(fills, "filled_at", user, given)
        return fills.order_by("-filled_at", "-id")


@extend_schema_view(
    list=doc(
        summary="List trades",
        description="Your round trips, newest first; days are read in your time zone (a "
        "closed trade by its close, an open one by its open). A strategy's trades are those "
        "its signals took part in.",
        response=TradeSerializer(many=True),
        parameters=[DATE_FROM, DATE_TO, STRATEGY, TRADER, ACCOUNT, TRADE_STATUS],
        examples=[example("A trade", TRADE)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a trade",
        description="One of your round trips.",
        response=TradeSerializer,
        examples=[example("A trade", TRADE)],
        errors=(404,),
    ),
)
class TradeViewSet(_ReadOnly):
    queryset_model = Trade
    serializer_class = TradeSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Trade]:
        scope = TradeScope(user=user, zone=zone_of(user=user))
        if self.action == "list":
            given = filters(self.request)
            status = given.get("status", "")
            scope = TradeScope(
                user=user,
                zone=scope.zone,
                start=given.get("date_from"),
                end=given.get("date_to"),
                strategy_pk=given.get("strategy"),
                trader_pk=given.get("trader"),
                subaccount_pk=given.get("account"),
                status=status if status in ("open", "closed") else "",
            )
        return trades_in(scope=scope).select_related("subaccount")
