"""The dashboard lists the user's latest fills from the mirror (newest first, theirs only)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from tests.factories import FillFactory, SubaccountFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_the_users_latest_fills_and_no_one_elses(
    user: User, other_user: User, owner_client: Client
) -> None:
    mine = SubaccountFactory.create(connection__user=user, name="DEMO1001")
    theirs = SubaccountFactory.create(connection__user=other_user, name="THEIRS")
    now = timezone.now()
    FillFactory.create(subaccount=mine, price=Decimal("21000.25"), filled_at=now - timedelta(1))
    FillFactory.create(subaccount=mine, side="Sell", price=Decimal("21005.5"), filled_at=now)
    FillFactory.create(subaccount=theirs, price=Decimal("1.00"))

    page = owner_client.get("/dashboard/").content.decode()
    fills = page[page.index('id="live-fills"') :]
    fills = fills[: fills.index("</ul>")]
    assert fills.index("Sell 1 MNQZ6 at 21005.50") < fills.index("Buy 1 MNQZ6 at 21000.25")
    assert "DEMO1001" in fills and "THEIRS" not in fills
    assert "No fill yet" not in page


def test_without_fills_the_list_says_so(user: User, owner_client: Client) -> None:
    assert "No fill yet" in owner_client.get("/dashboard/").content.decode()
