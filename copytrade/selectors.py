"""Reads for the copy-trading pages: always through the user who owns them."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Subaccount, User
from accounts.tenancy import tenant_queryset
from copytrade.models import CopyEvent, CopyGroup, CopyOutcome, Follower
from trading.models import Order

# An event not finished after this long is left to the log (a killed worker): the pages stop
# following it.
BUSY_WINDOW = timedelta(minutes=5)


def _followers() -> QuerySet[Follower]:
    return Follower.objects.select_related("subaccount__connection").order_by("id")


def copy_groups_of(*, user: User) -> QuerySet[CopyGroup]:
    """The user's copy groups with their leader, followers (``follower_rows``) and count."""
    return (
        tenant_queryset(model=CopyGroup, user=user)
        .select_related("leader__connection")
        .annotate(follower_count=Count("followers", distinct=True))
        .prefetch_related(Prefetch("followers", queryset=_followers(), to_attr="follower_rows"))
    )


def group_followers(*, group: CopyGroup) -> QuerySet[Follower]:
    return _followers().filter(group=group)


def copy_accounts_choosable(*, user: User) -> QuerySet[Subaccount]:
    """The user's trading accounts in use (active, connection not removed): leaders and
    followers are chosen among them."""
    return (
        tenant_queryset(model=Subaccount, user=user)
        .filter(active=True, connection__archived_at__isnull=True)
        .select_related("connection")
        .order_by("connection__label", "name")
    )


def follower_candidates(*, group: CopyGroup) -> QuerySet[Subaccount]:
    """Accounts that could be added to ``group``: not its leader, not already following in it
    (the service says why any other one is refused)."""
    return (
        copy_accounts_choosable(user=group.user)
        .exclude(pk=group.leader_id)
        .exclude(followings__group=group)
    )


def group_account_ids(*, group: CopyGroup, followers: list[Follower]) -> list[int]:
    """The accounts whose live frames may change what the group's pages show."""
    return [group.leader_id, *(f.subaccount_id for f in followers)]


def group_busy(*, group: CopyGroup) -> bool:
    """A leader fill of the group is being copied now (its followers' states are about to
    change): the pages follow it until it is done."""
    return CopyEvent.objects.filter(
        group=group, finished_at__isnull=True, received_at__gte=timezone.now() - BUSY_WINDOW
    ).exists()


def copy_log(*, group: CopyGroup) -> QuerySet[CopyEvent]:
    """The group's copy events, newest first, each with its followers' outcomes
    (``outcome_rows``) and their orders."""
    outcomes = (
        CopyOutcome.objects.select_related("follower__subaccount")
        .prefetch_related(Prefetch("orders", queryset=Order.objects.order_by("id")))
        .order_by("follower__subaccount__name", "id")
    )
    return (
        CopyEvent.objects.filter(group=group)
        .select_related("leader_fill")
        .prefetch_related(Prefetch("outcomes", queryset=outcomes, to_attr="outcome_rows"))
        .order_by("-received_at", "-id")
    )
