"""Plan limits: what a user's plan allows, checked by services before they write."""

from __future__ import annotations

from accounts.models import User
from billing.models import Plan
from billing.selectors import broker_accounts_count, membership_current

# --- plan limits ----------------------------------------------------------------------------


class PlanLimitError(Exception):
    """An action the user's plan does not allow. The message names the limit and the way up."""

    def __init__(self, message: str, *, limit: str) -> None:
        self.limit = limit
        super().__init__(message)


LIMITS: dict[str, tuple[str, str]] = {
    # limit name -> (Plan field, words for it)
    "broker_accounts": ("max_broker_accounts", "broker accounts"),
    "traders": ("max_traders", "traders"),
    "followers": ("max_followers", "copy-trading followers"),
}
FEATURES: dict[str, tuple[str, str]] = {
    "strategies": ("strategies_allowed", "strategies and traders"),
    "copy_trading": ("copy_trading_allowed", "copy trading"),
    "premium_strategies": ("premium_strategies_allowed", "premium strategies"),
    "api_access": ("api_access_allowed", "API access"),
}
_UPGRADE = "Upgrade your plan on Whop, or remove one first."


def _plan_or_raise(*, user: User, limit: str) -> Plan:
    membership = membership_current(user=user)
    if membership is None:
        raise PlanLimitError(
            "You have no active membership, so trading is paused. Renew or buy a plan on Whop "
            "to continue.",
            limit=limit,
        )
    if membership.plan is None:
        raise PlanLimitError(
            "Your membership is not linked to a Bracketeer plan yet; support has been told. "
            "Contact support to unlock your limits.",
            limit=limit,
        )
    return membership.plan


def plan_limit_check(*, user: User, limit: str, current: int, adding: int = 1) -> None:
    """Raise ``PlanLimitError`` unless ``current + adding`` fits the user's plan ``limit``.

    ``limit`` is one of ``LIMITS`` (broker_accounts, traders, followers). A cap of None means
    no cap; a cap of 0 means none allowed. Services that create connections, traders and
    followers call this inside their transaction before writing.
    """
    if limit not in LIMITS:
        raise ValueError(f"unknown plan limit {limit!r}; one of {sorted(LIMITS)}")
    plan = _plan_or_raise(user=user, limit=limit)
    field, words = LIMITS[limit]
    cap: int | None = getattr(plan, field)
    if cap is not None and current + adding > cap:
        raise PlanLimitError(
            f"Your {plan.name} plan allows {cap} {words}; you have {current}. {_UPGRADE}",
            limit=limit,
        )


def plan_feature_check(*, user: User, feature: str) -> None:
    """Raise ``PlanLimitError`` unless the user's plan includes ``feature`` (see FEATURES)."""
    if feature not in FEATURES:
        raise ValueError(f"unknown plan feature {feature!r}; one of {sorted(FEATURES)}")
    plan = _plan_or_raise(user=user, limit=feature)
    field, words = FEATURES[feature]
    if not getattr(plan, field):
        raise PlanLimitError(
            f"Your {plan.name} plan does not include {words}. Upgrade your plan on Whop.",
            limit=feature,
        )


def broker_accounts_limit_check(*, user: User, adding: int = 1) -> None:
    """The check the broker-connection service calls before adding ``adding`` accounts."""
    plan_limit_check(
        user=user, limit="broker_accounts", current=broker_accounts_count(user=user), adding=adding
    )
