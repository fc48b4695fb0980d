"""Reads for billing: a user's membership, plan, limits and pause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Subaccount, User
from billing.models import Membership, Plan, TradingPause


def memberships_valid(*, user: User | Any) -> QuerySet[Membership]:
    """The user's memberships that unlock the product now, best plan first."""
    return (
        Membership.objects.filter(user=user, status__in=Membership.VALID_STATUSES)
        .exclude(
            Q(source=Membership.Source.STAFF)
            & Q(period_end__isnull=False)
            & Q(period_end__lte=timezone.now())
        )
        .select_related("plan")
        .order_by("-plan__rank", "-updated_at")
    )


def membership_current(*, user: User | Any) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return memberships_valid(user=user).first()


def plan_for_whop_ids(*, plan_id: str, product_id: str) -> Plan | None:
    if plan_id != "":
        plan = Plan.objects.filter(whop_plan_id=plan_id).first()
        if plan is not None:
            return plan
    if product_id != "":
        return Plan.objects.filter(whop_product_id=product_id).first()
    return None


def trading_pause_open(*, user: User | Any) -> TradingPause | None:
    if user is None or not user.is_authenticated:
        return None
    return TradingPause.objects.filter(user=user, ended_at__isnull=True).first()


def broker_accounts_count(*, user: User) -> int:
    return Subaccount.objects.filter(connection__user=user, active=True).count()


def traders_count(*, user: User) -> int:
    """The user's traders that count against the plan: every one not archived (as the trader
    limit check in ``trading.control.trader_create`` counts them)."""
    return user.traders.filter(archived_at__isnull=True).count()


def followers_count(*, user: User) -> int:
    """The user's copy-trading followers that count against the plan (every follower of every
    copy group, as ``copytrade.services.follower_add`` counts them)."""
    counted: int = user.copy_groups.aggregate(n=Count("followers"))["n"]
    return counted


@dataclass(frozen=True)
class LimitRow:
    label: str
    used: int | None  # None: nothing to count yet (the feature arrives with its issue)
    cap: int | None  # None: no cap
    allowed: bool


def limits_overview(*, user: User) -> tuple[Membership | None, list[LimitRow]]:
    """What the user's plan allows and how much of it is used, for the billing page and admin."""
    membership = membership_current(user=user)
    plan = membership.plan if membership is not None else None
    if plan is None:
        return membership, []
    return membership, [
        LimitRow(
            "Broker accounts", broker_accounts_count(user=user), plan.max_broker_accounts, True
        ),
        LimitRow("Traders", traders_count(user=user), plan.max_traders, plan.strategies_allowed),
        LimitRow(
            "Copy-trading followers",
            followers_count(user=user),
            plan.max_followers,
            plan.copy_trading_allowed,
        ),
        LimitRow("Premium strategies", None, None, plan.premium_strategies_allowed),
        LimitRow("API access", None, None, plan.api_access_allowed),
    ]
