"""/api/traders/ and /api/trader-accounts/: CRUD (deleting a trader archives it), switching a
trader on and off, and reading or closing what is open on its accounts.

Thin: the page's forms validate (``api.form_bridge``), ``trading.control`` writes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Subaccount, User
from accounts.tenancy import tenant_queryset
from api.base import TenantViewSet, filters
from api.errors import Conflict
from api.form_bridge import form_data, validated
from api.schema import doc, example
from api.serializers_control import (
    CLOSE_EXAMPLE,
    EXPOSURE_EXAMPLE,
    CloseAllInput,
    CloseAllResult,
    ExposureResult,
    close_data,
    exposure_data,
)
from api.serializers_strategies import (
    TraderInput,
    TraderSerializer,
)
from trading import archive, control
from trading.forms import TraderForm
from trading.models import Trader, TraderAccount

TRADER_EXAMPLE = {
    "id": 5,
    "name": "MNQ on DEMO1001",
    "strategy": 7,
    "strategy_name": "MNQ breakout",
    "enabled": True,
    "disabled_reason": "",
    "switched_off": [],
    "restore_missing_exits": False,
    "entry_size": 2,
    "stop_distance": None,
    "accounts": [
        {
            "id": 3,
            "trader": 5,
            "subaccount": 11,
            "account_name": "DEMO1001",
            "multiplier": "1.000",
            "max_contracts": None,
            "enabled": True,
        }
    ],
    "created_at": "2026-12-01T14:35:00Z",
    "archived_at": None,
}


def close_accounts(request: Request, subaccounts: list[Subaccount]) -> Response:
    """Close everything on ``subaccounts`` (``trading.control.positions_close_all``); with a
    ``fingerprint``, only if what is open is still what was read."""
    given = CloseAllInput(data=request.data)
    given.is_valid(raise_exception=True)
    fingerprint = given.validated_data.get("fingerprint") or ""
    if fingerprint:
        now = control.exposure_fingerprint(exposures=control.exposure_read(subaccounts=subaccounts))
        if now != fingerprint:
            raise Conflict("What is open changed since you read it: read it again and retry.")
    return Response(close_data(control.positions_close_all(subaccounts=subaccounts)))


def exposure(subaccounts: list[Subaccount]) -> Response:
    exposures = control.exposure_read(subaccounts=subaccounts)
    return Response(exposure_data(exposures, control.exposure_fingerprint(exposures=exposures)))


def trader_fields(*, user: User, values: dict[str, Any], instance: Trader | None) -> Any:
    current: dict[str, Any] = {"enabled": True}
    if instance is not None:
        current = {n: getattr(instance, n) for n in TraderForm.model_field_names()}
        current["strategy"] = instance.strategy_id
    form = TraderForm(
        form_data({**current, **values}),
        user=user,
        strategies=control.strategies_followable(user=user),
        instance=instance,
    )
    validated(form)
    return form.cleaned_data["strategy"], form.model_fields()


def _saved(call: Any) -> Any:
    try:
        return call()
    except control.NameTakenError as exc:
        raise ValidationError({"name": [str(exc)]}) from None
    except ValueError as exc:
        raise ValidationError({"strategy": [str(exc)]}) from None


ARCHIVED = OpenApiParameter(
    "archived", bool, description="true: archived traders too (default: only those in use)."
)
ACTION_ERRORS = (403, 404)


@extend_schema_view(
    list=doc(
        summary="List traders",
        description="Your traders in use, by name, each with its accounts.",
        response=TraderSerializer(many=True),
        parameters=[ARCHIVED],
        examples=[example("A trader", TRADER_EXAMPLE)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a trader",
        description="One of your traders with its settings (null: the strategy's) and accounts.",
        response=TraderSerializer,
        examples=[example("A trader", TRADER_EXAMPLE)],
        errors=(404,),
    ),
    create=doc(
        summary="Create a trader",
        description="Follow one of your strategies (or a public one) with your own settings; "
        "validated as the trader form. Then add accounts at /api/trader-accounts/.",
        request=TraderInput,
        response=TraderSerializer,
        status=201,
        examples=[
            example("New trader", {"name": "MNQ on DEMO1001", "strategy": 7}, request=True),
            example("Created", TRADER_EXAMPLE, status=201),
        ],
        errors=(400, 403),
    ),
    partial_update=doc(
        summary="Change a trader",
        description="Send only the fields to change; null inherits the strategy's value.",
        request=TraderInput,
        response=TraderSerializer,
        examples=[
            example("Two contracts", {"entry_size": 2}, request=True),
            example("Changed", TRADER_EXAMPLE),
        ],
        errors=(400, 403, 404, 409),
    ),
    destroy=doc(
        summary="Archive a trader",
        description="Archives it: switched off and out of the lists; open positions at the "
        "broker are not touched and its history stays.",
        response=None,
        status=204,
        examples=[],
        errors=ACTION_ERRORS,
    ),
)
class TraderViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset_model = Trader
    serializer_class = TraderSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[Trader]:
        traders = (
            tenant_queryset(model=Trader, user=user)
            .select_related("strategy")
            .prefetch_related(
                Prefetch("accounts", queryset=TraderAccount.objects.select_related("subaccount"))
            )
        )
        if self.action == "list" and not filters(self.request)["archived"]:
            traders = traders.filter(archived_at__isnull=True)
        return traders.order_by("name", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = TraderInput(data=request.data)
        given.is_valid(raise_exception=True)
        strategy, fields = trader_fields(
            user=self.user, values=dict(given.validated_data), instance=None
        )
        trader = _saved(
            lambda: control.trader_create(user=self.user, strategy=strategy, fields=fields)
        )
        return Response(
            TraderSerializer(self.get_queryset().get(pk=trader.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        trader = self.get_object()
        if trader.archived_at is not None:
            raise Conflict(f"“{trader.name}” is archived: restore it to edit it.")
        given = TraderInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        strategy, fields = trader_fields(
            user=self.user, values=dict(given.validated_data), instance=trader
        )
        _saved(lambda: control.trader_update(trader=trader, strategy=strategy, fields=fields))
        return Response(TraderSerializer(self.get_queryset().get(pk=trader.pk)).data)

    def perform_destroy(self, instance: Trader) -> None:
        archive.trader_archive(trader=instance)

    def _switch(self, on: bool) -> Response:
        trader = self.get_object()
        try:
            control.trader_enabled_set(trader=trader, enabled=on)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        return Response(TraderSerializer(self.get_queryset().get(pk=trader.pk)).data)

    @doc(
        summary="Switch a trader on",
        description="Alerts of its strategy act on its accounts again (needs a plan with "
        "strategies; an archived trader is refused with 409).",
        request=None,
        response=TraderSerializer,
        examples=[example("On", TRADER_EXAMPLE)],
        errors=(403, 404, 409),
    )
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: Any = None) -> Response:
        return self._switch(True)

    @doc(
        summary="Switch a trader off",
        description="No alert acts on its accounts any more. Open positions are not touched "
        "(use close-all for that).",
        request=None,
        response=TraderSerializer,
        examples=[example("Off", {**TRADER_EXAMPLE, "enabled": False})],
        errors=ACTION_ERRORS,
    )
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: Any = None) -> Response:
        return self._switch(False)

    @doc(
        summary="What is open on a trader's accounts",
        description="Reads every account the trader is on from the broker now: open positions "
        "and working orders, and a fingerprint to pass to close-all.",
        response=ExposureResult,
        examples=[example("One position", EXPOSURE_EXAMPLE)],
        errors=(404,),
    )
    @action(detail=True, methods=["get"])
    def exposure(self, request: Request, pk: Any = None) -> Response:
        return exposure(control.trader_subaccounts(trader=self.get_object()))

    @doc(
        summary="Close all on a trader's accounts",
        description="On every account the trader is on: cancel every working order, then "
        "flatten every open position at market. One account's failure does not stop the "
        "others; each error is in the broker's words. With `fingerprint` (from exposure) it "
        "closes only if nothing changed since (409 otherwise).",
        request=CloseAllInput,
        response=CloseAllResult,
        examples=[
            example("Confirmed", {"fingerprint": "9f2c41d0a7b3e5c8d1f04a2b"}, request=True),
            example("Closed", CLOSE_EXAMPLE),
        ],
        errors=(400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="close-all")
    def close_all(self, request: Request, pk: Any = None) -> Response:
        return close_accounts(request, control.trader_subaccounts(trader=self.get_object()))
