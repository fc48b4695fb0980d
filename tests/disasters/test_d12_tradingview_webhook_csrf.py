"""D12 — Whop webhooks were silently 403'd all day (the CSRF exemption list had a typo).

Invariant: the real webhook URLs accept POSTs with CSRF enforcement on. (The Whop half is in
test_d12_whop_webhook_csrf.py; this is the TradingView webhook, on its literal path.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import StrategyFactory

pytestmark = pytest.mark.django_db


def test_the_literal_tradingview_path_accepts_a_post_with_csrf_checks_on(user: Any) -> None:
    strategy = StrategyFactory.create(user=user)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/webhooks/tradingview/{strategy.webhook_token}/",
        data='{"action": "buy", "ticker": "MESZ6"}',
        content_type="text/plain",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
