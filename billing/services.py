"""Writes for billing: memberships and trading pauses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.emails import activation_send
from billing.models import Membership, Plan, TradingPause
from billing.schema import WhopMembership, WhopShapeError
from billing.selectors import memberships_valid, plan_for_whop_ids

logger = logging.getLogger(__name__)

# --- trading pause --------------------------------------------------------------------------


def _traders_disable(*, user: User, reason: str) -> int:
    """Ask the trading app, through ``billing.signals.trading_paused``, to switch the user's
    traders off; how many it did. No receiver is an error, never a silent 0: a pause that
    switches nothing off would let a lapsed membership go on trading."""
    from billing.signals import trading_paused

    answers = trading_paused.send(sender=TradingPause, user=user, reason=reason)
    if not answers:
        raise ImproperlyConfigured(
            "Nothing receives billing.signals.trading_paused: the trading app must connect it."
        )
    counts = [cast(int, result) for _, result in answers]  # receivers return counts
    return sum(counts)


@transaction.atomic
def trading_pause(*, user: User, reason: str) -> TradingPause:
    """Pause the user's trading: every trader disabled (nothing deleted), a banner on every
    page until a membership is valid again. Idempotent: an open pause is returned as is."""
    existing = TradingPause.objects.select_for_update().filter(user=user, ended_at=None).first()
    if existing is not None:
        return existing
    pause = TradingPause.objects.create(user=user, reason=reason)
    pause.traders_disabled = _traders_disable(user=user, reason=reason)
    pause.save(update_fields=["traders_disabled"])
    logger.info("trading paused for user %s: %s", user.pk, reason)
    return pause


def trading_resume(*, user: User) -> bool:
    """End an open pause (traders stay disabled: the user re-enables them). True if one ended."""
    ended = TradingPause.objects.filter(user=user, ended_at=None).update(ended_at=timezone.now())
    return ended > 0


def access_refresh(*, user: User, reason: str) -> str:
    """Pause or resume trading to match the user's memberships; says what it did."""
    if memberships_valid(user=user).exists():
        return "trading resumed" if trading_resume(user=user) else "access unchanged"
    if not Membership.objects.filter(user=user).exists():
        return "no membership"
    trading_pause(user=user, reason=reason)
    return "trading paused"


# --- memberships ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipApplied:
    membership: Membership | None
    user: User | None
    user_created: bool
    changed: bool
    summary: str


def _user_for_membership(*, parsed: WhopMembership, path: str) -> tuple[User | None, bool]:
    if parsed.email is None:
        raise WhopShapeError(f"{path}.user.email", "needed to find or create the account", None)
    user = User.objects.filter(email__iexact=parsed.email).first()
    if user is not None:
        return user, False
    if parsed.status not in Membership.VALID_STATUSES:
        return None, False
    user = User(email=parsed.email, is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created concurrently (webhook and sync at once)
        return User.objects.get(email__iexact=parsed.email), False
    activation_send(user=user)
    return user, True


@transaction.atomic
def membership_apply(
    *, parsed: WhopMembership, revoke: bool = False, path: str = "data"
) -> MembershipApplied:
    """Make our Membership match Whop's. Creates an inactive user (and sends the activation
    e-mail) for a valid membership of an unknown e-mail. ``revoke`` forces an invalid status
    (a deactivation event whose payload still says active). Staff grants are never touched."""
    status = parsed.status
    if revoke and status in Membership.VALID_STATUSES:
        status = Membership.Status.EXPIRED
    membership = Membership.objects.select_for_update().filter(whop_id=parsed.whop_id).first()
    user_created = False
    if membership is not None:
        user: User | None = membership.user
    else:
        user, user_created = _user_for_membership(
            parsed=WhopMembership(**{**parsed.__dict__, "status": status}), path=path
        )
    if user is None:
        return MembershipApplied(
            None, None, False, False, f"no account for {parsed.email}; nothing to revoke"
        )
    plan = plan_for_whop_ids(plan_id=parsed.plan_id, product_id=parsed.product_id)
    fields = {
        "status": status,
        "plan": plan,
        "whop_plan_id": parsed.plan_id,
        "whop_product_id": parsed.product_id,
        "period_end": parsed.period_end,
        "cancel_at_period_end": parsed.cancel_at_period_end,
    }
    if membership is None:
        membership = Membership.objects.create(
            user=user, whop_id=parsed.whop_id, source=Membership.Source.WHOP, **fields
        )
        changed = True
    else:
        changed = any(getattr(membership, k) != v for k, v in fields.items())
        if changed:
            for key, value in fields.items():
                setattr(membership, key, value)
            membership.save()
    access = access_refresh(user=user, reason=f"Whop membership {parsed.whop_id} is {status}")
    plan_words = plan.name if plan is not None else "no matching plan (map it in the admin)"
    summary = f"{parsed.whop_id} {status} for {user.email}: {plan_words}; {access}"
    if user_created:
        summary += "; account created, activation e-mail queued"
    return MembershipApplied(membership, user, user_created, changed, summary)


@transaction.atomic
def membership_grant(
    *,
    user: User,
    plan: Plan,
    granted_by: User | None,
    until: datetime | None = None,
    days: int | None = None,
    note: str = "",
) -> Membership:
    """Grant or extend a staff membership (source=staff; a sync never overwrites it).

    ``until`` sets the end; ``days`` extends from the later of now and the current end;
    neither means open-ended. The user's trading resumes if it was paused.
    """
    grant = (
        Membership.objects.select_for_update()
        .filter(user=user, source=Membership.Source.STAFF)
        .order_by("-id")
        .first()
    )
    if grant is None:
        grant = Membership(user=user, source=Membership.Source.STAFF)
    if days is not None:
        start = max(timezone.now(), grant.period_end or timezone.now())
        until = start + timedelta(days=days)
    grant.status = Membership.Status.ACTIVE
    grant.plan = plan
    grant.period_end = until
    grant.granted_by = granted_by
    if note != "":
        grant.note = note
    grant.save()
    access_refresh(user=user, reason="staff grant ended")
    return grant
