"""Copy trading: a leader account's trades replicated to follower accounts by delta.

A `CopyGroup` has one leader subaccount and `Follower` subaccounts of the same user. Each leader
fill the user stream records becomes one `CopyEvent` (unique per group and broker fill), and
each follower's part of it one `CopyOutcome` (unique per event and follower): the follower's
target position, what it held, the delta sent, and the broker's words. Toggles live here only;
nothing resets them at start-up (D31).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.db import models

from accounts.models import Subaccount, User
from accounts.tenancy import TenantQuerySet
from trading.models import Fill, Order


class CopyGroup(models.Model):
    TENANT_PATH: ClassVar[str] = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="copy_groups")
    name = models.CharField(max_length=100)
    leader = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="led_groups")
    enabled = models.BooleanField(default=True)
    # When the leader goes flat, followers still holding are closed.
    flatten_when_leader_flat = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(fields=("user", "name"), name="copy_group_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class Follower(models.Model):
    TENANT_PATH: ClassVar[str] = "group__user"

    class SyncState(models.TextChoices):
        IN_SYNC = "in_sync", "In sync"
        DRIFTED = "drifted", "Drifted"
        DISARMED = "disarmed", "Disarmed"

    group = models.ForeignKey(CopyGroup, on_delete=models.CASCADE, related_name="followers")
    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="followings")
    # Target = leader's net x ratio, rounded toward zero; negative = inverse.
    ratio = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal(1))
    # When set: the follower holds this many contracts in the leader's direction (ratio ignored).
    fixed_qty = models.PositiveIntegerField(null=True, blank=True)
    max_contracts = models.PositiveIntegerField(null=True, blank=True)
    # Leader root -> follower root, e.g. {"NQ": "MNQ"}; other roots are copied as they are.
    symbol_map = models.JSONField(default=dict, blank=True)
    copy_exits = models.BooleanField(default=True)
    # Today's realized loss (as the broker reports it) that disarms the follower: from then on
    # it is only ever reduced or closed with the leader, never added to. Empty = no limit.
    max_daily_loss = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    enabled = models.BooleanField(default=True)
    sync_state = models.CharField(
        max_length=10, choices=SyncState.choices, default=SyncState.IN_SYNC
    )
    sync_reason = models.TextField(blank=True, default="")
    sync_changed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("group_id", "id")
        constraints = [
            models.UniqueConstraint(fields=("group", "subaccount"), name="follower_once_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.subaccount} follows {self.group}"


class CopyEvent(models.Model):
    """One leader fill, as copied to a group: at most once per (group, broker fill)."""

    TENANT_PATH: ClassVar[str] = "group__user"

    group = models.ForeignKey(CopyGroup, on_delete=models.CASCADE, related_name="events")
    leader_fill = models.ForeignKey(Fill, on_delete=models.CASCADE, related_name="copy_events")
    symbol = models.CharField(max_length=40)
    leader_position = models.IntegerField(null=True, blank=True)  # net after the fill
    received_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(
                fields=("group", "leader_fill"), name="copy_event_once_per_fill"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group}: fill {self.leader_fill_id}"


class CopyOutcome(models.Model):
    """What one follower did for one copy event."""

    TENANT_PATH: ClassVar[str] = "event__group__user"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        NOTHING = "nothing", "Nothing to do"
        FAILED = "failed", "Failed"
        IN_DOUBT = "in_doubt", "In doubt"

    event = models.ForeignKey(CopyEvent, on_delete=models.CASCADE, related_name="outcomes")
    # A follower removed keeps its lines in the copy log (the account is still named).
    follower = models.ForeignKey(
        Follower, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    symbol = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    target = models.IntegerField(null=True, blank=True)
    held_before = models.IntegerField(null=True, blank=True)
    delta = models.IntegerField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    orders = models.ManyToManyField(Order, blank=True, related_name="copy_outcomes")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("event_id", "follower_id")
        constraints = [
            models.UniqueConstraint(
                fields=("event", "follower"), name="copy_outcome_once_per_follower"
            )
        ]

    def __str__(self) -> str:
        return f"{self.follower}: {self.status}"


class ExitCopy(models.Model):
    """A leader's working take-profit or stop, mirrored on one follower by one of our orders."""

    TENANT_PATH: ClassVar[str] = "follower__group__user"

    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="exit_copies")
    leader_order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="copied_as")
    follower_order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="exit_copy")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.leader_order_id} -> {self.follower_order_id}"
