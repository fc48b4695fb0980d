from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from api.models import ApiKey
from api.services import api_key_create


@pytest.fixture(autouse=True)
def _generous_rates(settings: Any) -> None:
    """Walking every route sends more than a minute's budget; the throttle test sets its own."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_read": "100000/min", "api_write": "100000/min"},
    }


@pytest.fixture
def make_key(plan: Any) -> Callable[..., tuple[ApiKey, str]]:
    """A key of ``user`` (given an Elite membership: keys need a plan with API access)."""
    from billing.selectors import membership_current
    from billing.services import membership_grant

    def make(user: User, scope: str = "trade", **kwargs: Any) -> tuple[ApiKey, str]:
        if membership_current(user=user) is None:
            membership_grant(user=user, plan=plan, granted_by=None)
        return api_key_create(user=user, name=f"{scope} key", scope=scope, **kwargs)

    return make


def bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
