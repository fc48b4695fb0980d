"""/api/strategies/: CRUD (delete archives), rotate the webhook token, send or preview an alert.

Thin: the page's form validates (``api.form_bridge``), ``trading.control`` writes.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.tenancy import tenant_queryset
from api.base import TenantViewSet, filters
from api.errors import Conflict
from api.form_bridge import form_data, validated
from api.schema import doc, example
from api.serializers_strategies import (
    PreviewResult,
    StrategyInput,
    StrategySerializer,
    TestAlertInput,
    TestAlertResult,
)
from trading import archive, control
from trading.alerts import parse_alert
from trading.forms import StrategyForm
from trading.forms_test_alert import TestAlertForm
from trading.models import Strategy
from trading.preview import signal_preview

STRATEGY_EXAMPLE = {
    "id": 7,
    "name": "MNQ breakout",
    "description": "",
    "visibility": "private",
    "enabled": True,
    "webhook_url": "https://bracketeer.example/webhooks/tradingview/3vQ…/",
    "alert_may_set_quantity": False,
    "alert_may_set_take_profit": False,
    "alert_may_set_stop": False,
    "alert_quantity_max": None,
    "symbol_allow_list": ["MNQ"],
    "entry_size": 1,
    "add_size": None,
    "use_alert_quantity": None,
    "take_profits": [{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
    "stop_distance": "10.000000",
    "stop_unit": "ticks",
    "break_even_trigger_ticks": None,
    "break_even_offset_ticks": None,
    "trailing_trigger_ticks": None,
    "trailing_step_ticks": None,
    "on_same_direction": "ignore",
    "on_opposite_direction": "reverse",
    "invert_signals": None,
    "direction_filter": None,
    "time_windows": [["09:30", "11:30"]],
    "flatten_after_cutoff": None,
    "cooldown_seconds": None,
    "max_signals_per_day": None,
    "max_daily_loss": None,
    "symbol_override": None,
    "created_at": "2026-12-01T14:30:00Z",
    "archived_at": None,
}
STRATEGY_INPUT = {
    "name": "MNQ breakout",
    "entry_size": 1,
    "stop_distance": "10",
    "stop_unit": "ticks",
    "take_profits": [{"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}],
    "symbol_allow_list": ["MNQ"],
}
ALERT_INPUT = {"action": "buy", "symbol": "MNQ1!"}
ARCHIVED = OpenApiParameter(
    "archived", bool, description="true: archived strategies too (default: only those in use)."
)


def strategy_fields(*, user: User, values: dict[str, Any], instance: Strategy | None) -> Any:
    """The page form's cleaned fields for ``values`` laid over the instance's (a PATCH)."""
    current: dict[str, Any] = {"enabled": True, "visibility": "private"}
    if instance is not None:
        current = {n: getattr(instance, n) for n in StrategyForm.model_field_names()}
    form = StrategyForm(form_data({**current, **values}), user=user, instance=instance)
    validated(form)
    return form.model_fields()


@extend_schema_view(
    list=doc(
        summary="List strategies",
        description="Your strategies in use, by name (with `archived=true`, archived ones too).",
        response=StrategySerializer(many=True),
        parameters=[ARCHIVED],
        examples=[example("A strategy", STRATEGY_EXAMPLE)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a strategy",
        description="One of your strategies, with its webhook URL and settings.",
        response=StrategySerializer,
        examples=[example("A strategy", STRATEGY_EXAMPLE)],
        errors=(404,),
    ),
    create=doc(
        summary="Create a strategy",
        description="Validated exactly as the strategy form (same rules, same messages). "
        "Needs a plan with strategies. Answers with the strategy and its webhook URL.",
        request=StrategyInput,
        response=StrategySerializer,
        status=201,
        examples=[
            example("New strategy", STRATEGY_INPUT, request=True),
            example("Created", STRATEGY_EXAMPLE, status=201),
        ],
        errors=(400, 403),
    ),
    partial_update=doc(
        summary="Change a strategy",
        description="Send only the fields to change; null sets a setting back to the default. "
        "An archived strategy is refused (409): restore it on its page first.",
        request=StrategyInput,
        response=StrategySerializer,
        examples=[
            example("Change the stop", {"stop_distance": "12", "stop_unit": "ticks"}, request=True),
            example("Changed", STRATEGY_EXAMPLE),
        ],
        errors=(400, 403, 404, 409),
    ),
    destroy=doc(
        summary="Archive a strategy",
        description="Archives it (nothing is deleted): switched off, out of the lists, its "
        "webhook stores nothing. Its signals, outcomes and orders stay.",
        response=None,
        status=204,
        examples=[],
        errors=(403, 404),
    ),
)
class StrategyViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset_model = Strategy
    serializer_class = StrategySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[Strategy]:
        strategies = tenant_queryset(model=Strategy, user=user)
        if self.action == "list" and not filters(self.request)["archived"]:
            strategies = strategies.filter(archived_at__isnull=True)
        return strategies.order_by("name", "id")

    def _saved(self, call: Any) -> Strategy:
        try:
            strategy: Strategy = call()
        except control.NameTakenError as exc:
            raise ValidationError({"name": [str(exc)]}) from None
        return strategy

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = StrategyInput(data=request.data)
        given.is_valid(raise_exception=True)
        fields = strategy_fields(user=self.user, values=dict(given.validated_data), instance=None)
        strategy = self._saved(lambda: control.strategy_create(user=self.user, fields=fields))
        return Response(StrategySerializer(strategy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        strategy = self.get_object()
        if strategy.archived_at is not None:
            raise Conflict(f"“{strategy.name}” is archived: restore it to edit it.")
        given = StrategyInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        fields = strategy_fields(
            user=self.user, values=dict(given.validated_data), instance=strategy
        )
        self._saved(lambda: control.strategy_update(strategy=strategy, fields=fields))
        return Response(StrategySerializer(strategy).data)

    def perform_destroy(self, instance: Strategy) -> None:
        archive.strategy_archive(strategy=instance)

    @doc(
        summary="Rotate the webhook URL",
        description="Gives the strategy a new secret webhook URL; the old one stops working at "
        "once. Update your TradingView alerts with the new `webhook_url`.",
        request=None,
        response=StrategySerializer,
        examples=[example("New URL", STRATEGY_EXAMPLE)],
        errors=(403, 404),
    )
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request: Request, pk: Any = None) -> Response:
        strategy = control.strategy_webhook_token_rotate(strategy=self.get_object())
        return Response(StrategySerializer(strategy).data)

    def _alert(self, request: Request, strategy: Strategy) -> dict[str, Any]:
        given = TestAlertInput(data=request.data)
        given.is_valid(raise_exception=True)
        form = TestAlertForm(
            form_data(given.validated_data),
            default_symbol=control.strategy_test_alert_symbol(strategy=strategy),
        )
        return dict(validated(form).cleaned_data)

    @doc(
        summary="Send a test alert",
        description="Receives a sample alert exactly as the webhook would: stored as a test "
        "signal and executed on your own enabled accounts that follow this strategy (never on "
        "subscribers'). Follow the signal at /api/signals/{id}/.",
        request=TestAlertInput,
        response=TestAlertResult,
        status=201,
        examples=[
            example("Buy MNQ", ALERT_INPUT, request=True),
            example("Accepted", {"status": "accepted", "reason": "", "signal": 412}, status=201),
        ],
        errors=(400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="test-alert")
    def test_alert(self, request: Request, pk: Any = None) -> Response:
        strategy = self.get_object()
        if strategy.archived_at is not None:
            raise Conflict(f"“{strategy.name}” is archived: restore it to send alerts.")
        data = self._alert(request, strategy)
        received = control.strategy_test_alert_send(
            strategy=strategy, action=data["action"], symbol=data["symbol"]
        )
        body = {"status": received.status, "reason": received.reason, "signal": received.signal.pk}
        return Response(body, status=status.HTTP_201_CREATED)

    @doc(
        summary="Preview an alert",
        description="What a test alert would do on each of your accounts following this "
        "strategy now: the broker's position is read, the engine decides, nothing is sent or "
        "stored.",
        request=TestAlertInput,
        response=PreviewResult,
        examples=[
            example("Buy MNQ", ALERT_INPUT, request=True),
            example(
                "One account",
                {
                    "body": '{"action": "buy", "ticker": "MNQ1!", "id": "test-5f1c"}',
                    "accounts": [
                        {
                            "trader_account": 3,
                            "account_name": "DEMO1001",
                            "symbol": "MNQZ6",
                            "position": 0,
                            "decision": "enter",
                            "reason": "",
                            "steps": [
                                "Buy 1 MNQZ6 at market",
                                "exits from the fill price: stop 10 ticks",
                            ],
                            "error": "",
                        }
                    ],
                },
            ),
        ],
        errors=(400, 403, 404),
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: Any = None) -> Response:
        strategy = self.get_object()
        data = self._alert(request, strategy)
        body = control.strategy_test_alert_body(
            strategy=strategy, action=data["action"], symbol=data["symbol"]
        )
        previews = signal_preview(
            strategy=strategy, user=self.user, alert=parse_alert(json.loads(body))
        )
        rows = [
            {
                "trader_account": p.account.pk,
                "account_name": p.account.subaccount.name,
                "symbol": p.symbol,
                "position": p.position,
                "decision": p.decision,
                "reason": p.reason,
                "steps": list(p.steps),
                "error": p.error,
            }
            for p in previews
        ]
        return Response(PreviewResult({"body": body.decode(), "accounts": rows}).data)
