"""Test helpers: Whop-shaped payloads, Whop-style signatures, billing factories.

Signatures are computed here from the spec (HMAC-SHA256 keyed with the RAW bytes of the
dashboard secret over ``id.timestamp.body``), independently of the library the app uses, so a
test fails if the app keys its verifier wrongly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import factory

from billing.models import Membership, Plan
from tests.factories import UserFactory

WEBHOOK_SECRET = "ws_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"  # Whop-style, not base64
WEBHOOK_URL = "/webhooks/whop/"


def sign(*, msg_id: str, timestamp: int, body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    mac = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
    secret: str = WEBHOOK_SECRET,
) -> dict[str, Any]:
    msg_id = msg_id if msg_id is not None else f"msg_{uuid.uuid4().hex}"
    ts = timestamp if timestamp is not None else int(time.time())
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(ts),
        "HTTP_WEBHOOK_SIGNATURE": sign(msg_id=msg_id, timestamp=ts, body=body, secret=secret),
    }


def membership_data(
    *,
    whop_id: str = "mem_1",
    email: str = "new.buyer@example.com",
    status: str = "active",
    plan_id: str = "plan_elite",
    product_id: str = "prod_elite",
) -> dict[str, Any]:
    return {
        "id": whop_id,
        "status": status,
        "user": {"id": "user_1", "username": "buyer", "name": "Buyer", "email": email},
        "plan": {"id": plan_id},
        "product": {"id": product_id, "title": "Elite"},
        "renewal_period_start": "2026-01-01T00:00:00Z",
        "renewal_period_end": "2026-02-01T00:00:00Z",
        "cancel_at_period_end": False,
        "license_key": None,
        "metadata": {},
    }


def current_event(event_type: str, data: dict[str, Any], *, msg_id: str = "msg_x") -> bytes:
    return json.dumps(
        {
            "id": msg_id,
            "api_version": "v1",
            "type": event_type,
            "timestamp": "2026-01-01T00:00:00Z",
            "company_id": "biz_1",
            "data": data,
        }
    ).encode()


def legacy_event(action: str, data: dict[str, Any], *, key: str = "data") -> bytes:
    return json.dumps({"action": action, key: data}).encode()


def elite() -> Plan:
    plan = Plan.objects.get(slug="elite")
    plan.whop_plan_id = "plan_elite"
    plan.whop_product_id = "prod_elite"
    plan.save()
    return plan


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    """A valid Whop membership on a seeded plan (``plan`` defaults to Basic)."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    source = Membership.Source.WHOP
    whop_id = factory.Sequence(lambda n: f"mem_f{n}")
    status = Membership.Status.ACTIVE
    plan = factory.LazyFunction(lambda: Plan.objects.get(slug="basic"))


def send_queued_emails() -> int:
    """Run the e-mail task (the function itself, as a worker would) for every queued e-mail."""
    from billing.models import EmailDelivery
    from billing.tasks import email_delivery_send

    pending = list(EmailDelivery.objects.filter(status="pending").values_list("pk", flat=True))
    for pk in pending:
        email_delivery_send(pk)
    return len(pending)


def ensure_billing_seed() -> None:
    """Re-apply the data migrations' rows (plans, support group) after a transactional test
    elsewhere in the session flushed the tables. The support group gets exactly what the
    migrations give it (billing 0003, trading 0002, accounts 0004)."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from trading.models import Trader

    import_module("billing.migrations.0002_seed_plans").seed(apps, None)
    if Group.objects.filter(name="support", permissions__isnull=False).exists():
        return  # not flushed since (creating every app's permissions again costs ~0.2 s)
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    trading = import_module("trading.migrations.0002_support_permissions")
    trader_type = ContentType.objects.get_for_model(Trader)
    for codename, name in trading.TRADING_ACTION_PERMISSIONS:
        Permission.objects.get_or_create(
            content_type=trader_type, codename=codename, defaults={"name": name}
        )
    wanted = [
        *import_module("billing.migrations.0003_support_group").SUPPORT_PERMISSIONS,
        *trading.TRADING_SUPPORT_PERMISSIONS,
        *import_module("accounts.migrations.0004_support_unlock_login").SUPPORT_LOGIN_PERMISSIONS,
    ]
    copying = import_module("copytrade.migrations.0002_support_permissions")
    follower_type = ContentType.objects.get(app_label="copytrade", model="follower")
    Permission.objects.get_or_create(
        content_type=follower_type,
        codename=copying.ACTION[0],
        defaults={"name": copying.ACTION[1]},
    )
    wanted += [("copytrade", c) for c in [*copying.VIEW, copying.ACTION[0]]]
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in wanted
        ]
    )
