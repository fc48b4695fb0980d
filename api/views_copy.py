"""/api/copy-groups/ and /api/followers/: copy trading's groups and their followers.

Thin: the pages' forms validate (``api.form_bridge``), ``copytrade.services`` writes and says
why a setup is refused (no loops, one leader per follower, the plan's limits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.tenancy import tenant_queryset
from api.base import TenantViewSet, filters
from api.form_bridge import form_data, validated
from api.schema import doc, example
from copytrade import selectors, services
from copytrade.forms import CopyGroupForm, FollowerForm
from copytrade.models import CopyGroup, Follower


class FollowerSerializer(serializers.ModelSerializer[Follower]):
    """An account copying a group's leader: how much, how far, and whether it is in sync."""

    account_name = serializers.CharField(source="subaccount.name", read_only=True)
    symbol_map = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = Follower
        fields = (
            "id",
            "group",
            "subaccount",
            "account_name",
            "ratio",
            "fixed_qty",
            "max_contracts",
            "symbol_map",
            "copy_exits",
            "max_daily_loss",
            "enabled",
            "sync_state",
            "sync_reason",
        )
        read_only_fields = fields


class CopyGroupSerializer(serializers.ModelSerializer[CopyGroup]):
    """A leader account whose trades are copied to its followers."""

    leader_name = serializers.CharField(source="leader.name", read_only=True)
    followers = FollowerSerializer(many=True, read_only=True, source="follower_rows")

    class Meta:
        model = CopyGroup
        fields = ("id", "name", "leader", "leader_name", "enabled", "created_at", "followers")
        read_only_fields = fields


class CopyGroupInput(serializers.Serializer[Any]):
    """Create: name and leader (your trading account's id). PATCH: only `enabled`."""

    name = serializers.CharField(max_length=100, required=False)
    leader = serializers.IntegerField(required=False)
    enabled = serializers.BooleanField(required=False)


class FollowerInput(serializers.Serializer[Any]):
    """Create: group and subaccount (ids of yours) and the settings; PATCH: the settings."""

    group = serializers.IntegerField(required=False)
    subaccount = serializers.IntegerField(required=False)
    ratio = serializers.DecimalField(max_digits=10, decimal_places=4, required=False)
    fixed_qty = serializers.IntegerField(allow_null=True, required=False)
    max_contracts = serializers.IntegerField(allow_null=True, required=False)
    symbol_map = serializers.DictField(child=serializers.CharField(), required=False)
    copy_exits = serializers.BooleanField(required=False)
    max_daily_loss = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, required=False
    )
    enabled = serializers.BooleanField(required=False)


FOLLOWER = {
    "id": 4,
    "group": 2,
    "subaccount": 12,
    "account_name": "DEMO1002",
    "ratio": "1.0000",
    "fixed_qty": None,
    "max_contracts": None,
    "symbol_map": {"NQ": "MNQ"},
    "copy_exits": True,
    "max_daily_loss": None,
    "enabled": True,
    "sync_state": "in_sync",
    "sync_reason": "",
}
GROUP = {
    "id": 2,
    "name": "Main",
    "leader": 11,
    "leader_name": "DEMO1001",
    "enabled": True,
    "created_at": "2026-12-01T15:00:00Z",
    "followers": [FOLLOWER],
}
GROUP_PARAM = OpenApiParameter("group", int, description="Only this copy group's followers.")


def _refused(call: Any) -> Any:
    try:
        return call()
    except services.CopySetupError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from None


@extend_schema_view(
    list=doc(
        summary="List copy groups",
        description="Your copy groups with their leader and followers.",
        response=CopyGroupSerializer(many=True),
        examples=[example("A group", GROUP)],
    ),
    retrieve=doc(
        summary="Get a copy group",
        description="One of your copy groups with its followers and their sync states.",
        response=CopyGroupSerializer,
        examples=[example("A group", GROUP)],
        errors=(404,),
    ),
    create=doc(
        summary="Create a copy group",
        description="A group led by one of your trading accounts (needs a plan with copy "
        "trading). Add followers at /api/followers/.",
        request=CopyGroupInput,
        response=CopyGroupSerializer,
        status=201,
        examples=[
            example("New group", {"name": "Main", "leader": 11}, request=True),
            example("Created", {**GROUP, "followers": []}, status=201),
        ],
        errors=(400, 403),
    ),
    partial_update=doc(
        summary="Switch copying on or off",
        description="`enabled`: false stops copying the leader's next fills (followers' "
        "positions are not touched); true needs a plan with copy trading.",
        request=CopyGroupInput,
        response=CopyGroupSerializer,
        examples=[example("Off", {"enabled": False}, request=True), example("Changed", GROUP)],
        errors=(400, 403, 404),
    ),
)
class CopyGroupViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset_model = CopyGroup
    serializer_class = CopyGroupSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[CopyGroup]:
        return selectors.copy_groups_of(user=user).order_by("name", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = CopyGroupInput(data=request.data)
        given.is_valid(raise_exception=True)
        form = CopyGroupForm(
            form_data(given.validated_data),
            subaccounts=selectors.copy_accounts_choosable(user=self.user),
        )
        data = validated(form).cleaned_data
        group = _refused(
            lambda: services.copy_group_create(
                user=self.user, name=data["name"], leader=data["leader"]
            )
        )
        return Response(
            CopyGroupSerializer(self.get_queryset().get(pk=group.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = self.get_object()
        given = CopyGroupInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if "enabled" in given.validated_data:
            services.copy_group_enabled_set(group=group, enabled=given.validated_data["enabled"])
        return Response(CopyGroupSerializer(self.get_queryset().get(pk=group.pk)).data)


@extend_schema_view(
    list=doc(
        summary="List followers",
        description="The accounts following your copy groups' leaders.",
        response=FollowerSerializer(many=True),
        parameters=[GROUP_PARAM],
        examples=[example("A follower", FOLLOWER)],
        errors=(400,),
    ),
    retrieve=doc(
        summary="Get a follower",
        description="One follower with its settings and sync state.",
        response=FollowerSerializer,
        examples=[example("A follower", FOLLOWER)],
        errors=(404,),
    ),
    create=doc(
        summary="Add a follower",
        description="One of your accounts follows a group's leader. Refused with the reason: "
        "the leader itself, an account already following a leader, a loop, a ratio of 0.",
        request=FollowerInput,
        response=FollowerSerializer,
        status=201,
        examples=[
            example(
                "Follow at half size", {"group": 2, "subaccount": 12, "ratio": "0.5"}, request=True
            ),
            example("Added", FOLLOWER, status=201),
        ],
        errors=(400, 403),
    ),
    partial_update=doc(
        summary="Change a follower",
        description="Ratio, fixed quantity, cap, contract mapping, exits, loss limit, on/off.",
        request=FollowerInput,
        response=FollowerSerializer,
        examples=[
            example("Cap at 2", {"max_contracts": 2}, request=True),
            example("Changed", FOLLOWER),
        ],
        errors=(400, 403, 404),
    ),
    destroy=doc(
        summary="Remove a follower",
        description="The account stops following; its positions and orders stay as they are.",
        response=None,
        status=204,
        examples=[],
        errors=(403, 404),
    ),
)
class FollowerViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset_model = Follower
    serializer_class = FollowerSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: User) -> QuerySet[Follower]:
        followers = tenant_queryset(model=Follower, user=user).select_related("subaccount")
        group = filters(self.request).get("group") if self.action == "list" else None
        if group is not None:
            followers = followers.filter(group_id=group)
        return followers.order_by("group_id", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = FollowerInput(data=request.data)
        given.is_valid(raise_exception=True)
        values = {"ratio": Decimal(1), "copy_exits": True, "enabled": True, **given.validated_data}
        group = (
            tenant_queryset(model=CopyGroup, user=self.user)
            .filter(pk=values.pop("group", None))
            .first()
        )
        if group is None:
            raise ValidationError({"group": ["No copy group of yours with that id."]})
        form = FollowerForm(
            form_data(values), subaccounts=selectors.follower_candidates(group=group)
        )
        validated(form)
        saved = _refused(
            lambda: services.follower_add(
                group=group, subaccount=form.cleaned_data["subaccount"], **form.settings()
            )
        )
        return Response(FollowerSerializer(saved.follower).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        follower = self.get_object()
        given = FollowerInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        current = {
            "ratio": follower.ratio,
            "fixed_qty": follower.fixed_qty,
            "max_contracts": follower.max_contracts,
            "symbol_map": follower.symbol_map or {},
            "copy_exits": follower.copy_exits,
            "max_daily_loss": follower.max_daily_loss,
            "enabled": follower.enabled,
        }
        changes = {k: v for k, v in given.validated_data.items() if k in current}
        form = FollowerForm.for_follower(form_data({**current, **changes}), follower=follower)
        validated(form)
        _refused(lambda: services.follower_update(follower=follower, **form.settings()))
        return Response(FollowerSerializer(follower).data)

    def perform_destroy(self, instance: Follower) -> None:
        services.follower_remove(follower=instance)
