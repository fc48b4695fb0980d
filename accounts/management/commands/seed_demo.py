"""Create (or reset) the demo subscriber and a support superuser, and print their logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import BrokerConnection, User
from billing.models import Plan
from billing.selectors import membership_current
from billing.services import membership_grant
from trading.brokers.services import broker_connection_create

DEMO_EMAIL = "demo@bracketeer.local"
DEMO_PASSWORD = "demo-trader-2026"
ADMIN_EMAIL = "support@bracketeer.local"
ADMIN_PASSWORD = "support-desk-2026"
PAPER_LABEL = "Paper (simulator)"


def _ensure(email: str, password: str, *, staff: bool) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email)
    user.is_active = True
    user.is_staff = staff
    user.is_superuser = staff
    user.set_password(password)
    user.save()
    return user


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
        if not BrokerConnection.objects.filter(user=demo, label=PAPER_LABEL).exists():
            # The paper broker started by `make demo`; "Test connection" lists its accounts.
            broker_connection_create(
                user=demo,
                label=PAPER_LABEL,
                broker=BrokerConnection.Broker.SIMULATOR,
                username="demo",
                password="demo-password",
            )
        _ensure(ADMIN_EMAIL, ADMIN_PASSWORD, staff=True)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "  Bracketeer demo is ready",
                    f"  Site:    {settings.SITE_URL}/",
                    f"  Log in:  {DEMO_EMAIL} / {DEMO_PASSWORD}",
                    f"  Support: {settings.SITE_URL}/admin/  {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
                    f"  Health:  {settings.SITE_URL}/healthz",
                    "",
                ]
            )
        )
