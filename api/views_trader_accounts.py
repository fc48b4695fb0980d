"""/api/trader-accounts/: a trader on one of your trading accounts (multiplier, cap, on/off).

Thin: the page's form validates (``api.form_bridge``), ``trading.control`` writes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Subaccount, User
from accounts.tenancy import tenant_queryset
from api.base import TenantViewSet, filters
from api.form_bridge import form_data, validated
from api.schema import doc, example
from api.serializers_strategies import TraderAccountInput, TraderAccountSerializer
from trading import control
from trading.forms import TraderAccountForm
from trading.models import Trader, TraderAccount

ACCOUNT_EXAMPLE = {
    "id": 3,
    "trader": 5,
    "subaccount": 11,
    "account_name": "DEMO1001",
    "multiplier": "1.000",
    "max_contracts": None,
    "enabled": True,
}
ACTION_ERRORS = (403, 404)


TRADER = OpenApiParameter("trader", int, description="Only this trader's accounts (its id).")


@extend_schema_view(
    list=doc(
        summary="List trader accounts",
        description="The trading accounts your traders are on, with multiplier and cap.",
        response=TraderAccountSerializer(many=True),
        parameters=[TRADER],
        examples=[example("An account", ACCOUNT_EXAMPLE)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a trader account",
        description="One trader on one of your trading accounts.",
        response=TraderAccountSerializer,
        examples=[example("An account", ACCOUNT_EXAMPLE)],
        errors=(404,),
    ),
    create=doc(
        summary="Put a trader on an account",
        description="Both ids must be yours (another user's id is refused as not a choice). "
        "`max_contracts` null = no cap.",
        request=TraderAccountInput,
        response=TraderAccountSerializer,
        status=201,
        examples=[
            example("Add", {"trader": 5, "subaccount": 11, "multiplier": "1"}, request=True),
            example("Added", ACCOUNT_EXAMPLE, status=201),
        ],
        errors=(400, 403),
    ),
    partial_update=doc(
        summary="Change a trader account",
        description="Multiplier, cap (null = no cap) and on/off.",
        request=TraderAccountInput,
        response=TraderAccountSerializer,
        examples=[
            example("Cap at 3", {"max_contracts": 3}, request=True),
            example("Changed", ACCOUNT_EXAMPLE),
        ],
        errors=(400, 403, 404),
    ),
    destroy=doc(
        summary="Take a trader off an account",
        description="The trader stops acting on it; positions and orders at the broker stay.",
        response=None,
        status=204,
        examples=[],
        errors=ACTION_ERRORS,
    ),
)
class TraderAccountViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset_model = TraderAccount
    serializer_class = TraderAccountSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[TraderAccount]:
        accounts = tenant_queryset(model=TraderAccount, user=user).select_related(
            "subaccount__connection", "trader__strategy"
        )
        trader = filters(self.request).get("trader") if self.action == "list" else None
        if trader is not None:
            accounts = accounts.filter(trader_id=trader)
        return accounts.order_by("id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = TraderAccountInput(data=request.data)
        given.is_valid(raise_exception=True)
        values = {"multiplier": 1, "enabled": True, **given.validated_data}
        trader_pk = values.get("trader")
        trader = tenant_queryset(model=Trader, user=self.user).filter(pk=trader_pk or 0)
        if trader_pk is None or not trader.exists():
            raise ValidationError({"trader": ["No trader of yours with that id."]})
        form = TraderAccountForm(
            form_data(values),
            subaccounts=tenant_queryset(model=Subaccount, user=self.user)
            .filter(active=True)
            .select_related("connection"),
        )
        data = validated(form).cleaned_data
        try:
            account = control.trader_account_add(
                trader=trader.get(),
                subaccount=data["subaccount"],
                multiplier=data["multiplier"],
                max_contracts=data["max_contracts"],
                enabled=data["enabled"],
            )
        except ValueError as exc:
            raise ValidationError({"subaccount": [str(exc)]}) from None
        return Response(TraderAccountSerializer(account).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        given = TraderAccountInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        current = {
            "multiplier": account.multiplier,
            "max_contracts": account.max_contracts,
            "enabled": account.enabled,
        }
        changes = {k: v for k, v in given.validated_data.items() if k in current}
        form = TraderAccountForm.for_account(form_data({**current, **changes}), account=account)
        data = validated(form).cleaned_data
        control.trader_account_update(
            account=account,
            multiplier=data["multiplier"],
            max_contracts=data["max_contracts"],
            enabled=data["enabled"],
        )
        return Response(TraderAccountSerializer(account).data)

    def perform_destroy(self, instance: TraderAccount) -> None:
        control.trader_account_remove(account=instance)
