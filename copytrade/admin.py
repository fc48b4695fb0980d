"""Copy trading for the support desk: a user's copy groups at a glance, the copy log, and one
write, "Disarm selected followers" (permission ``copytrade.disarm_follower``, migration 0002)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.admin import ReadOnlyAdminMixin
from copytrade.models import CopyEvent, CopyGroup, CopyOutcome, Follower
from copytrade.sync_state import follower_mark

FOLLOWER_FIELDS = (
    "subaccount",
    "ratio",
    "fixed_qty",
    "max_contracts",
    "symbol_map",
    "copy_exits",
    "enabled",
    "sync_state",
    "sync_reason",
)


class FollowerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Follower
    fields = FOLLOWER_FIELDS
    readonly_fields = fields
    extra = 0


@admin.register(CopyGroup)
class CopyGroupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "user", "leader", "enabled", "follower_count", "created_at")
    list_filter = ("enabled",)
    search_fields = ("user__email", "name", "leader__name")
    list_select_related = ("user", "leader")
    fields = ("name", "user", "leader", "enabled", "flatten_when_leader_flat", "created_at")
    readonly_fields = fields
    inlines = (FollowerInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CopyGroup]:
        return super().get_queryset(request).annotate(follower_total=Count("followers"))

    @admin.display(description="followers", ordering="follower_total")
    def follower_count(self, group: CopyGroup) -> int:
        return int(getattr(group, "follower_total", 0))


@admin.register(Follower)
class FollowerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subaccount", "group", "ratio", "fixed_qty", "enabled", "sync_state")
    list_filter = ("sync_state", "enabled")
    search_fields = ("group__user__email", "subaccount__name", "group__name")
    list_select_related = ("subaccount", "group")
    fields = ("group", *FOLLOWER_FIELDS, "sync_changed_at")
    readonly_fields = fields
    actions = ("disarm",)

    def has_disarm_follower_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("copytrade.disarm_follower"))

    @admin.action(description="Disarm selected followers", permissions=["disarm_follower"])
    def disarm(self, request: HttpRequest, queryset: QuerySet[Follower]) -> None:
        done = 0
        for follower in queryset:
            follower_mark(
                follower,
                Follower.SyncState.DISARMED,
                f"support disarmed it on {timezone.localdate():%Y-%m-%d}; contact support",
            )
            done += 1
        self.message_user(
            request,
            f"{done} follower(s) disarmed: until re-armed they are only reduced and closed "
            "with their leader, never added to.",
        )


class CopyOutcomeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CopyOutcome
    fields = (
        "follower",
        "symbol",
        "status",
        "held_before",
        "target",
        "delta",
        "reason",
        "error",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    extra = 0


@admin.register(CopyEvent)
class CopyEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "group", "symbol", "leader_position", "finished_at")
    search_fields = ("group__user__email", "group__name", "symbol")
    list_select_related = ("group",)
    fields = ("group", "leader_fill", "symbol", "leader_position", "received_at", "finished_at")
    readonly_fields = fields
    inlines = (CopyOutcomeInline,)
