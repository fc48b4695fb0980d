"""/api/connections/ (broker logins: never a secret or a token) and /api/accounts/ (trading
accounts: what is open on one, close all on one)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import BrokerConnection, Subaccount, User
from accounts.selectors import broker_connections_for
from accounts.services import LabelTaken, broker_connection_rename
from api.base import TenantViewSet
from api.schema import doc, example
from api.serializers_control import (
    CLOSE_EXAMPLE,
    EXPOSURE_EXAMPLE,
    CloseAllInput,
    CloseAllResult,
    ExposureResult,
)
from api.views_traders import close_accounts, exposure
from trading.selectors import live_subaccounts


class SubaccountSerializer(serializers.ModelSerializer[Subaccount]):
    """A trading account under a broker login."""

    connection_label = serializers.CharField(source="connection.label", read_only=True)

    class Meta:
        model = Subaccount
        fields = ("id", "broker_account_id", "name", "active", "connection", "connection_label")
        read_only_fields = fields


class BrokerConnectionSerializer(serializers.ModelSerializer[BrokerConnection]):
    """A broker login. Its password, API secret and tokens are never shown."""

    subaccounts = SubaccountSerializer(many=True, read_only=True)

    class Meta:
        model = BrokerConnection
        fields = ("id", "label", "broker", "status", "last_error", "created_at", "subaccounts")
        read_only_fields = ("id", "broker", "status", "last_error", "created_at", "subaccounts")


class ConnectionInput(serializers.Serializer[Any]):
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]


ACCOUNT = {
    "id": 11,
    "broker_account_id": 100001,
    "name": "DEMO1001",
    "active": True,
    "connection": 2,
    "connection_label": "Paper",
}
CONNECTION = {
    "id": 2,
    "label": "Paper",
    "broker": "simulator",
    "status": "connected",
    "last_error": "",
    "created_at": "2026-12-01T14:00:00Z",
    "subaccounts": [ACCOUNT],
}


@extend_schema_view(
    list=doc(
        summary="List broker connections",
        description="Your broker logins in use with their trading accounts. Credentials and "
        "tokens are never part of the answer; add a login on the Connections page.",
        response=BrokerConnectionSerializer(many=True),
        examples=[example("A connection", CONNECTION)],
    ),
    retrieve=doc(
        summary="Get a broker connection",
        description="One of your broker logins in use, with its trading accounts.",
        response=BrokerConnectionSerializer,
        examples=[example("A connection", CONNECTION)],
        errors=(404,),
    ),
    partial_update=doc(
        summary="Rename a broker connection",
        description="Only the label can change here (the login itself: on its page).",
        request=ConnectionInput,
        response=BrokerConnectionSerializer,
        examples=[
            example("Rename", {"label": "Paper 2"}, request=True),
            example("Renamed", CONNECTION),
        ],
        errors=(400, 403, 404),
    ),
)
class BrokerConnectionViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset_model = BrokerConnection
    serializer_class = BrokerConnectionSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[BrokerConnection]:
        return (
            broker_connections_for(user=user)
            .prefetch_related("subaccounts__connection")
            .order_by("label", "id")
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = self.get_object()
        given = ConnectionInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if "label" in given.validated_data:
            try:
                broker_connection_rename(connection=connection, label=given.validated_data["label"])
            except LabelTaken as exc:
                raise ValidationError({"label": [str(exc)]}) from None
        return Response(BrokerConnectionSerializer(self.get_queryset().get(pk=connection.pk)).data)


@extend_schema_view(
    list=doc(
        summary="List trading accounts",
        description="The trading accounts of your broker connections in use.",
        response=SubaccountSerializer(many=True),
        examples=[example("An account", ACCOUNT)],
    ),
    retrieve=doc(
        summary="Get a trading account",
        description="One of your trading accounts.",
        response=SubaccountSerializer,
        examples=[example("An account", ACCOUNT)],
        errors=(404,),
    ),
)
class TradingAccountViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset_model = Subaccount
    serializer_class = SubaccountSerializer

    def scoped_queryset(self, user: User) -> QuerySet[Subaccount]:
        return live_subaccounts(user=user)

    @doc(
        summary="What is open on an account",
        description="Reads the account from the broker now: open positions and working "
        "orders, and a fingerprint to pass to close-all.",
        response=ExposureResult,
        examples=[example("One position", EXPOSURE_EXAMPLE)],
        errors=(404,),
    )
    @action(detail=True, methods=["get"])
    def exposure(self, request: Request, pk: Any = None) -> Response:
        return exposure([self.get_object()])

    @doc(
        summary="Close all on an account",
        description="Cancel every working order on the account, then flatten every open "
        "position at market; errors are in the broker's words. With `fingerprint` (from "
        "exposure) it closes only if nothing changed since (409 otherwise).",
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
        return close_accounts(request, [self.get_object()])
