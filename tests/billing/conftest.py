from __future__ import annotations

from typing import Any

import pytest

from tests.billing.fake_whop import fake_whop
from tests.billing.whop_fixtures import WEBHOOK_SECRET, ensure_billing_seed

__all__ = ["fake_whop"]


@pytest.fixture(autouse=True)
def _whop_secret(settings: Any) -> None:
    settings.WHOP_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture(autouse=True)
def _billing_seed(request: Any) -> None:
    if (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or (request.node.get_closest_marker("django_db") is not None)
    ):
        request.getfixturevalue("_django_db_helper")
        ensure_billing_seed()
