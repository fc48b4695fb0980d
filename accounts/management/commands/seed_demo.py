"""Create (or reset) the demo subscriber and a support login, and print their logins.

The support login is staff in the "support" group (billing 0003, trading 0002, accounts 0004):
what the support desk does in the admin, no more; it is not a superuser."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.models import BrokerConnection, Subaccount, User
from billing.models import Plan
from billing.selectors import membership_current
from billing.services import membership_grant
from trading.brokers.services import broker_connection_create
from trading.models import Strategy, Trader, TraderAccount

DEMO_EMAIL = "demo@bracketeer.local"
DEMO_PASSWORD = "demo-trader-2026"
ADMIN_EMAIL = "support@bracketeer.local"
ADMIN_PASSWORD = "support-desk-2026"
PAPER_LABEL = "Paper (simulator)"
COPY_GROUP = "Copy demo"


SUPPORT_GROUP = "support"


def _ensure(email: str, password: str, *, staff: bool) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email)
    user.is_active = True
    user.is_staff = staff
    user.is_superuser = False
    user.set_password(password)
    user.save()
    if staff:
        user.groups.set([Group.objects.get(name=SUPPORT_GROUP)])
    return user


def support_login_ensure() -> User:
    """The support desk's login: staff, in the "support" group only, not a superuser."""
    return _ensure(ADMIN_EMAIL, ADMIN_PASSWORD, staff=True)


# The simulator `make demo` starts has these accounts on the demo login (Procfile).
DEMO_ACCOUNTS = ((1001, "DEMO1001"), (1002, "DEMO1002"), (1003, "DEMO1003"), (1004, "DEMO1004"))


def _demo_copy_group(demo: User, connection: BrokerConnection) -> None:
    """Copy demo: DEMO1002 leads; DEMO1003 follows at ratio 2, DEMO1004 inverse (ratio -1)."""
    from copytrade.models import CopyGroup
    from copytrade.services import copy_group_create, follower_add

    if CopyGroup.objects.filter(user=demo, name=COPY_GROUP).exists():
        return
    account = {s.name: s for s in connection.subaccounts.all()}
    group = copy_group_create(user=demo, name=COPY_GROUP, leader=account["DEMO1002"])
    follower_add(group=group, subaccount=account["DEMO1003"], ratio=Decimal(2))
    follower_add(group=group, subaccount=account["DEMO1004"], ratio=Decimal(-1))


def _demo_strategy(demo: User, connection: BrokerConnection) -> Strategy:
    """A strategy the demo subscriber follows on the paper account DEMO1001: one MNQ contract,
    take-profit 20 ticks, stop 10 ticks, break-even at 8 ticks (+1). The simulator seeds the
    demo login's accounts as 1001/1002; "Test connection" refreshes them from the broker."""
    for account_id, name in DEMO_ACCOUNTS:
        Subaccount.objects.get_or_create(
            connection=connection, broker_account_id=account_id, defaults={"name": name}
        )
    strategy, _ = Strategy.objects.get_or_create(
        user=demo,
        name="MNQ demo",
        defaults={
            "description": "Demo: 1 MNQ, take-profit 20 ticks, stop 10 ticks, break-even 8/+1.",
            "entry_size": 1,
            "add_size": 1,
            "take_profits": [
                {"distance": "20", "unit": "ticks", "qty": "100", "qty_unit": "percent"}
            ],
            "stop_distance": Decimal("10"),
            "stop_unit": "ticks",
            "break_even_trigger_ticks": 8,
            "break_even_offset_ticks": 1,
        },
    )
    trader, _ = Trader.objects.get_or_create(
        user=demo, name="MNQ demo on paper", defaults={"strategy": strategy}
    )
    TraderAccount.objects.get_or_create(
        trader=trader, subaccount=Subaccount.objects.get(connection=connection, name="DEMO1001")
    )
    return strategy


class Command(BaseCommand):
    help = "Create the demo subscriber and support login (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo = _ensure(DEMO_EMAIL, DEMO_PASSWORD, staff=False)
        if membership_current(user=demo) is None:
            # A staff grant: the demo subscriber has the Elite plan without a Whop purchase.
            membership_grant(
                user=demo,
                plan=Plan.objects.get(slug="elite"),
                granted_by=None,
                note="demo subscriber (seed_demo)",
            )
        connection = BrokerConnection.objects.filter(
            user=demo, label=PAPER_LABEL, archived_at__isnull=True
        ).first()
        if connection is None:
            # The paper broker started by `make demo`; "Test connection" lists its accounts.
            connection = broker_connection_create(
                user=demo,
                label=PAPER_LABEL,
                broker=BrokerConnection.Broker.SIMULATOR,
                username="demo",
                password="demo-password",
            )
        strategy = _demo_strategy(demo, connection)
        _demo_copy_group(demo, connection)
        support_login_ensure()
        webhook = f"{settings.SITE_URL}/webhooks/tradingview/{strategy.webhook_token}/"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "  Bracketeer demo is ready",
                    f"  Site:    {settings.SITE_URL}/",
                    f"  Log in:  {DEMO_EMAIL} / {DEMO_PASSWORD}",
                    f"  Support: {settings.SITE_URL}/admin/  {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
                    f"  Health:  {settings.SITE_URL}/healthz",
                    f"  Try an alert on the paper account ({strategy.name}):",
                    f'    curl -X POST {webhook} -d \'{{"action": "buy", "ticker": "MNQZ2026"}}\'',
                    f"  Copy trading: “{COPY_GROUP}” copies DEMO1002 to DEMO1003 (x2) and DEMO1004"
                    " (inverse); trade DEMO1002 by hand at the simulator: see README, Copy demo.",
                    "",
                ]
            )
        )
