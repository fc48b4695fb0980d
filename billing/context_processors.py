"""The billing banner on every page: trading paused, or a payment past due."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from billing.models import Membership
from billing.selectors import membership_current, trading_pause_open


def billing_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    pause = trading_pause_open(user=user)
    if pause is not None:
        return {"billing_pause": pause}
    membership = membership_current(user=user)
    if membership is not None and membership.status == Membership.Status.PAST_DUE:
        return {"billing_past_due": membership}
    return {}
