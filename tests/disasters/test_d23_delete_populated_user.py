"""D23 — deleting a user failed on foreign-key constraints.

| D23 | deleting a user failed on FK constraints | every FK has a deliberate `on_delete`; deleting a fully populated user works from the admin | test |

A user with every kind of row that exists today (connections, subaccounts, memberships, a
staff grant they gave, a pause, Whop events, e-mails, strategies, traders on their accounts,
signals with outcomes and orders, and another user's trader following their strategy) is deleted through the admin's own
confirmation page. Their rows go; records about others survive with the link cleared.
"""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client

from accounts.models import User
from billing.models import EmailDelivery, Membership, TradingPause, WhopEvent
from billing.services import membership_grant, trading_pause
from tests.billing.whop_fixtures import MembershipFactory, ensure_billing_seed
from tests.factories import (
    BrokerConnectionFactory,
    StrategyFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
    UserFactory,
)
from trading.models import Order, Signal, SignalOutcome, Strategy, Trader

pytestmark = pytest.mark.django_db


def test_deleting_a_fully_populated_user_from_the_admin_works() -> None:
    ensure_billing_seed()
    doomed = UserFactory.create(is_staff=True)
    other = UserFactory.create()
    subs = SubaccountFactory.create_batch(2, connection=BrokerConnectionFactory.create(user=doomed))
    strategy = StrategyFactory.create(user=doomed)
    account = TraderAccountFactory.create(
        trader=TraderFactory.create(strategy=strategy), subaccount=subs[0]
    )
    follower = TraderFactory.create(strategy=strategy, user=other)  # follows doomed's strategy
    signal = Signal.objects.create(strategy=strategy, idempotency_key="d23", raw_body="{}")
    outcome = SignalOutcome.objects.create(
        signal=signal, trader_account=account, subaccount=subs[0], status="done"
    )
    Order.objects.create(
        subaccount=subs[0],
        signal=signal,
        outcome=outcome,
        cl_ord_id="d23-1",
        symbol="MNQZ6",
        side="Buy",
        qty=1,
        order_type="Market",
        role="entry",
    )
    membership = MembershipFactory.create(user=doomed)
    from billing.models import Plan

    other_grant = membership_grant(
        user=other, plan=Plan.objects.get(slug="basic"), granted_by=doomed, days=7
    )
    trading_pause(user=doomed, reason="test")
    WhopEvent.objects.create(whop_id="msg_d", user=doomed, membership=membership)
    EmailDelivery.objects.create(user=doomed, to_email=doomed.email, kind="activation", subject="s")

    admin = Client()
    admin.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    url = f"/admin/accounts/user/{doomed.pk}/delete/"
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"post": "yes"}).status_code == 302

    assert not User.objects.filter(pk=doomed.pk).exists()
    assert not Membership.objects.filter(user_id=doomed.pk).exists()
    assert not TradingPause.objects.filter(user_id=doomed.pk).exists()
    assert not Strategy.objects.filter(user_id=doomed.pk).exists()
    assert not Signal.objects.exists() and not SignalOutcome.objects.exists()
    assert not Order.objects.exists()
    assert not Trader.objects.filter(pk=follower.pk).exists()  # nothing left to follow
    other_grant.refresh_from_db()
    assert other_grant.granted_by is None  # the grant stands; who gave it is forgotten
    event = WhopEvent.objects.get(whop_id="msg_d")  # the audit trail of Whop stays
    assert event.user is None and event.membership is None


def test_every_foreign_key_to_a_user_has_a_deliberate_on_delete() -> None:
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is User:
                assert field.remote_field.on_delete in {models.CASCADE, models.SET_NULL}, (
                    f"{model.__name__}.{field.name}"
                )
