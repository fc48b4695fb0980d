"""Plan limits: enforced by services, with a message that names the limit and the way up."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from billing.limits import (
    PlanLimitError,
    broker_accounts_limit_check,
    plan_feature_check,
    plan_limit_check,
)
from billing.models import Plan
from tests.billing.whop_fixtures import MembershipFactory
from tests.factories import BrokerConnectionFactory, SubaccountFactory

pytestmark = pytest.mark.django_db


def test_seeded_plans_match_what_is_sold() -> None:
    plans = {p.slug: p for p in Plan.objects.all()}
    assert {s: p.max_broker_accounts for s, p in plans.items()} == {
        "copy-trader": 10,
        "basic": 5,
        "premium": 10,
        "elite": 25,
    }
    assert plans["copy-trader"].copy_trading_allowed and not plans["copy-trader"].strategies_allowed
    assert plans["basic"].strategies_allowed and not plans["basic"].premium_strategies_allowed
    assert plans["premium"].premium_strategies_allowed and not plans["premium"].api_access_allowed
    assert all(
        getattr(plans["elite"], f)
        for f in (
            "copy_trading_allowed",
            "strategies_allowed",
            "premium_strategies_allowed",
            "api_access_allowed",
        )
    )
    assert {p.trial_days for p in plans.values()} == {7}


def test_broker_accounts_over_the_plan_cap_are_refused_with_the_way_up(user: User) -> None:
    MembershipFactory.create(user=user)  # Basic: 5 accounts
    connection = BrokerConnectionFactory.create(user=user)
    SubaccountFactory.create_batch(4, connection=connection)
    broker_accounts_limit_check(user=user, adding=1)  # the 5th fits
    SubaccountFactory.create(connection=connection)
    with pytest.raises(PlanLimitError) as error:
        broker_accounts_limit_check(user=user, adding=1)
    assert error.value.limit == "broker_accounts"
    assert str(error.value) == (
        "Your Basic plan allows 5 broker accounts; you have 5. "
        "Upgrade your plan on Whop, or remove one first."
    )


def test_other_tenants_accounts_do_not_count(user: User, other_user: User) -> None:
    MembershipFactory.create(user=user)
    SubaccountFactory.create_batch(6, connection=BrokerConnectionFactory.create(user=other_user))
    broker_accounts_limit_check(user=user, adding=5)


def test_no_membership_means_no_trading_and_says_how_to_fix_it(user: User) -> None:
    with pytest.raises(PlanLimitError, match="no active membership.*Whop"):
        plan_limit_check(user=user, limit="traders", current=0)


def test_zero_means_none_and_none_means_no_cap(user: User) -> None:
    MembershipFactory.create(user=user, plan=Plan.objects.get(slug="copy-trader"))
    with pytest.raises(PlanLimitError, match="allows 0 traders"):
        plan_limit_check(user=user, limit="traders", current=0)
    plan_limit_check(user=user, limit="followers", current=10_000)  # no cap


def test_features_follow_the_plan(user: User) -> None:
    MembershipFactory.create(user=user, plan=Plan.objects.get(slug="premium"))
    plan_feature_check(user=user, feature="premium_strategies")
    with pytest.raises(PlanLimitError, match="does not include API access"):
        plan_feature_check(user=user, feature="api_access")
    with pytest.raises(ValueError, match="unknown plan feature"):
        plan_feature_check(user=user, feature="teleport")


def test_the_best_valid_membership_decides(user: User) -> None:
    MembershipFactory.create(user=user, plan=Plan.objects.get(slug="elite"), status="expired")
    MembershipFactory.create(user=user, plan=Plan.objects.get(slug="basic"))
    with pytest.raises(PlanLimitError, match="Basic plan allows 5"):
        plan_limit_check(user=user, limit="broker_accounts", current=5)


def test_limits_are_shown_on_the_billing_page(user: User, owner_client: Client) -> None:
    MembershipFactory.create(user=user, plan=Plan.objects.get(slug="premium"))
    SubaccountFactory.create_batch(3, connection=BrokerConnectionFactory.create(user=user))
    page = owner_client.get("/billing/").content.decode()
    assert "Premium" in page
    assert "<td>Broker accounts</td>" in page
    assert '<td class="num">3</td>' in page and '<td class="num">10</td>' in page
    assert "upgrade your plan on Whop" in page
