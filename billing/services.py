"""Writes for billing: webhooks, memberships, plan limits, trading pauses, e-mail, sync."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import User
from billing.models import (
    EmailDelivery,
    Membership,
    Plan,
    TradingPause,
    WhopEvent,
    WhopSyncRun,
)
from billing.schema import (
    WhopMembership,
    WhopShapeError,
    parse_envelope,
    parse_membership,
    payment_membership_id,
)
from billing.selectors import (
    broker_accounts_count,
    membership_current,
    memberships_valid,
    plan_for_whop_ids,
)
from billing.tokens import activation_token_make
from billing.whop import WhopApiError, WhopClient

logger = logging.getLogger(__name__)

GRANT_TYPES = frozenset({"membership.activated", "membership.went_valid"})
REVOKE_TYPES = frozenset({"membership.deactivated", "membership.went_invalid"})
PAYMENT_TYPES = frozenset({"payment.succeeded", "payment.failed"})
MAX_STORED_BODY = 64_000
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
WHOP_KEY_STATUS_CACHE_KEY = "billing:whop-api-key-status"

# --- plan limits ----------------------------------------------------------------------------


class PlanLimitError(Exception):
    """An action the user's plan does not allow. The message names the limit and the way up."""

    def __init__(self, message: str, *, limit: str) -> None:
        self.limit = limit
        super().__init__(message)


LIMITS: dict[str, tuple[str, str]] = {
    # limit name -> (Plan field, words for it)
    "broker_accounts": ("max_broker_accounts", "broker accounts"),
    "traders": ("max_traders", "traders"),
    "followers": ("max_followers", "copy-trading followers"),
}
FEATURES: dict[str, tuple[str, str]] = {
    "strategies": ("strategies_allowed", "strategies and traders"),
    "copy_trading": ("copy_trading_allowed", "copy trading"),
    "premium_strategies": ("premium_strategies_allowed", "premium strategies"),
    "api_access": ("api_access_allowed", "API access"),
}
_UPGRADE = "Upgrade your plan on Whop, or remove one first."


def _plan_or_raise(*, user: User, limit: str) -> Plan:
    membership = membership_current(user=user)
    if membership is None:
        raise PlanLimitError(
            "You have no active membership, so trading is paused. Renew or buy a plan on Whop "
            "to continue.",
            limit=limit,
        )
    if membership.plan is None:
        raise PlanLimitError(
            "Your membership is not linked to a Bracketeer plan yet; support has been told. "
            "Contact support to unlock your limits.",
            limit=limit,
        )
    return membership.plan


def plan_limit_check(*, user: User, limit: str, current: int, adding: int = 1) -> None:
    """Raise ``PlanLimitError`` unless ``current + adding`` fits the user's plan ``limit``.

    ``limit`` is one of ``LIMITS`` (broker_accounts, traders, followers). A cap of None means
    no cap; a cap of 0 means none allowed. Services that create connections, traders and
    followers call this inside their transaction before writing.
    """
    if limit not in LIMITS:
        raise ValueError(f"unknown plan limit {limit!r}; one of {sorted(LIMITS)}")
    plan = _plan_or_raise(user=user, limit=limit)
    field, words = LIMITS[limit]
    cap: int | None = getattr(plan, field)
    if cap is not None and current + adding > cap:
        raise PlanLimitError(
            f"Your {plan.name} plan allows {cap} {words}; you have {current}. {_UPGRADE}",
            limit=limit,
        )


def plan_feature_check(*, user: User, feature: str) -> None:
    """Raise ``PlanLimitError`` unless the user's plan includes ``feature`` (see FEATURES)."""
    if feature not in FEATURES:
        raise ValueError(f"unknown plan feature {feature!r}; one of {sorted(FEATURES)}")
    plan = _plan_or_raise(user=user, limit=feature)
    field, words = FEATURES[feature]
    if not getattr(plan, field):
        raise PlanLimitError(
            f"Your {plan.name} plan does not include {words}. Upgrade your plan on Whop.",
            limit=feature,
        )


def broker_accounts_limit_check(*, user: User, adding: int = 1) -> None:
    """The check the broker-connection service calls before adding ``adding`` accounts."""
    plan_limit_check(
        user=user, limit="broker_accounts", current=broker_accounts_count(user=user), adding=adding
    )


# --- trading pause --------------------------------------------------------------------------


def _traders_disable(*, user: User, reason: str) -> int:
    """Ask the trading app, through ``billing.signals.trading_paused``, to switch the user's
    traders off; how many it did. No receiver is an error, never a silent 0: a pause that
    switches nothing off would let a lapsed membership go on trading."""
    from billing.signals import trading_paused

    answers = trading_paused.send(sender=TradingPause, user=user, reason=reason)
    if not answers:
        raise ImproperlyConfigured(
            "Nothing receives billing.signals.trading_paused: the trading app must connect it."
        )
    counts = [cast(int, result) for _, result in answers]  # receivers return counts
    return sum(counts)


@transaction.atomic
def trading_pause(*, user: User, reason: str) -> TradingPause:
    """Pause the user's trading: every trader disabled (nothing deleted), a banner on every
    page until a membership is valid again. Idempotent: an open pause is returned as is."""
    existing = TradingPause.objects.select_for_update().filter(user=user, ended_at=None).first()
    if existing is not None:
        return existing
    pause = TradingPause.objects.create(user=user, reason=reason)
    pause.traders_disabled = _traders_disable(user=user, reason=reason)
    pause.save(update_fields=["traders_disabled"])
    logger.info("trading paused for user %s: %s", user.pk, reason)
    return pause


def trading_resume(*, user: User) -> bool:
    """End an open pause (traders stay disabled: the user re-enables them). True if one ended."""
    ended = TradingPause.objects.filter(user=user, ended_at=None).update(ended_at=timezone.now())
    return ended > 0


def access_refresh(*, user: User, reason: str) -> str:
    """Pause or resume trading to match the user's memberships; says what it did."""
    if memberships_valid(user=user).exists():
        return "trading resumed" if trading_resume(user=user) else "access unchanged"
    if not Membership.objects.filter(user=user).exists():
        return "no membership"
    trading_pause(user=user, reason=reason)
    return "trading paused"


# --- memberships ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipApplied:
    membership: Membership | None
    user: User | None
    user_created: bool
    changed: bool
    summary: str


def _user_for_membership(*, parsed: WhopMembership, path: str) -> tuple[User | None, bool]:
    if parsed.email is None:
        raise WhopShapeError(f"{path}.user.email", "needed to find or create the account", None)
    user = User.objects.filter(email__iexact=parsed.email).first()
    if user is not None:
        return user, False
    if parsed.status not in Membership.VALID_STATUSES:
        return None, False
    user = User(email=parsed.email, is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created concurrently (webhook and sync at once)
        return User.objects.get(email__iexact=parsed.email), False
    activation_send(user=user)
    return user, True


@transaction.atomic
def membership_apply(
    *, parsed: WhopMembership, revoke: bool = False, path: str = "data"
) -> MembershipApplied:
    """Make our Membership match Whop's. Creates an inactive user (and sends the activation
    e-mail) for a valid membership of an unknown e-mail. ``revoke`` forces an invalid status
    (a deactivation event whose payload still says active). Staff grants are never touched."""
    status = parsed.status
    if revoke and status in Membership.VALID_STATUSES:
        status = Membership.Status.EXPIRED
    membership = Membership.objects.select_for_update().filter(whop_id=parsed.whop_id).first()
    user_created = False
    if membership is not None:
        user: User | None = membership.user
    else:
        user, user_created = _user_for_membership(
            parsed=WhopMembership(**{**parsed.__dict__, "status": status}), path=path
        )
    if user is None:
        return MembershipApplied(
            None, None, False, False, f"no account for {parsed.email}; nothing to revoke"
        )
    plan = plan_for_whop_ids(plan_id=parsed.plan_id, product_id=parsed.product_id)
    fields = {
        "status": status,
        "plan": plan,
        "whop_plan_id": parsed.plan_id,
        "whop_product_id": parsed.product_id,
        "period_end": parsed.period_end,
        "cancel_at_period_end": parsed.cancel_at_period_end,
    }
    if membership is None:
        membership = Membership.objects.create(
            user=user, whop_id=parsed.whop_id, source=Membership.Source.WHOP, **fields
        )
        changed = True
    else:
        changed = any(getattr(membership, k) != v for k, v in fields.items())
        if changed:
            for key, value in fields.items():
                setattr(membership, key, value)
            membership.save()
    access = access_refresh(user=user, reason=f"Whop membership {parsed.whop_id} is {status}")
    plan_words = plan.name if plan is not None else "no matching plan (map it in the admin)"
    summary = f"{parsed.whop_id} {status} for {user.email}: {plan_words}; {access}"
    if user_created:
        summary += "; account created, activation e-mail queued"
    return MembershipApplied(membership, user, user_created, changed, summary)


@transaction.atomic
def membership_grant(
    *,
    user: User,
    plan: Plan,
    granted_by: User | None,
    until: datetime | None = None,
    days: int | None = None,
    note: str = "",
) -> Membership:
    """Grant or extend a staff membership (source=staff; a sync never overwrites it).

    ``until`` sets the end; ``days`` extends from the later of now and the current end;
    neither means open-ended. The user's trading resumes if it was paused.
    """
    grant = (
        Membership.objects.select_for_update()
        .filter(user=user, source=Membership.Source.STAFF)
        .order_by("-id")
        .first()
    )
    if grant is None:
        grant = Membership(user=user, source=Membership.Source.STAFF)
    if days is not None:
        start = max(timezone.now(), grant.period_end or timezone.now())
        until = start + timedelta(days=days)
    grant.status = Membership.Status.ACTIVE
    grant.plan = plan
    grant.period_end = until
    grant.granted_by = granted_by
    if note != "":
        grant.note = note
    grant.save()
    access_refresh(user=user, reason="staff grant ended")
    return grant


def _payment_apply(*, event_type: str, data: dict[str, Any]) -> tuple[str, Membership | None]:
    membership_id = payment_membership_id(data)
    membership = Membership.objects.select_for_update().filter(whop_id=membership_id).first()
    if membership is None:
        return f"membership {membership_id} unknown here; the next sync reconciles it", None
    if event_type == "payment.failed" and membership.status in Membership.VALID_STATUSES:
        membership.status = Membership.Status.PAST_DUE
        membership.save(update_fields=["status", "updated_at"])
        return f"{membership_id} past due (payment failed)", membership
    if event_type == "payment.succeeded" and membership.status == Membership.Status.PAST_DUE:
        membership.status = Membership.Status.ACTIVE
        membership.save(update_fields=["status", "updated_at"])
        return f"{membership_id} active again (payment succeeded)", membership
    return f"{membership_id} stays {membership.status}", membership


# --- webhooks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcome:
    status_code: int
    message: str
    event: WhopEvent | None


def _verify(*, body: bytes, headers: Mapping[str, str]) -> str | None:
    """None if Whop signed this body; else why not (Standard Webhooks, 5-minute tolerance).

    Whop's effective HMAC key is the raw bytes of the dashboard secret, and the library
    base64-decodes what it is given: so it gets the secret base64-encoded.
    """
    secret = settings.WHOP_WEBHOOK_SECRET
    key = base64.b64encode(secret.encode()).decode()
    try:
        Webhook(key).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        return str(exc)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        return f"malformed signature headers or body: {type(exc).__name__}"
    return None


def whop_webhook_receive(*, body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """Verify, store (unique by ``webhook-id``) and apply one Whop webhook.

    A bad signature is stored as rejected (never processed) and answered 401. A redelivery is
    answered 200 and not applied again. An unhandled type is stored as ignored. Nothing here
    answers 500: an unexpected failure while applying is stored on the event for support.
    """
    wanted = {k: headers.get(k, "") for k in SIGNATURE_HEADERS}
    header_id = wanted["webhook-id"][:128]
    stored_headers = {"webhook-id": header_id, "webhook-timestamp": wanted["webhook-timestamp"]}
    text = body[:MAX_STORED_BODY].decode("utf-8", errors="replace")
    if settings.WHOP_WEBHOOK_SECRET == "":
        problem: str | None = "WHOP_WEBHOOK_SECRET is not set: cannot verify"
    else:
        problem = _verify(body=body, headers=wanted)
    if problem is not None:
        event = WhopEvent.objects.create(
            claimed_id=header_id,
            status=WhopEvent.Status.REJECTED,
            error=f"signature rejected: {problem}",
            body=text,
            headers=stored_headers,
        )
        logger.warning("whop webhook rejected (claimed id %r): %s", header_id, problem)
        return WebhookOutcome(401, "invalid signature", event)

    with transaction.atomic():
        event, created = WhopEvent.objects.get_or_create(
            whop_id=header_id, defaults={"body": text, "headers": stored_headers}
        )
        if not created:
            WhopEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
            return WebhookOutcome(200, "already received", event)
    whop_event_apply(event=event)
    event.refresh_from_db()
    return WebhookOutcome(200, event.status, event)


def whop_event_apply(*, event: WhopEvent) -> WhopEvent:
    """Apply a stored, verified event once; records status, result and error on the event."""
    try:
        with transaction.atomic():
            locked = WhopEvent.objects.select_for_update().get(pk=event.pk)
            if locked.status in {WhopEvent.Status.PROCESSED, WhopEvent.Status.IGNORED}:
                return locked
            try:
                payload = json.loads(locked.body)
            except ValueError as exc:
                raise WhopShapeError("body", f"not JSON ({exc})", locked.body[:80]) from None
            envelope = parse_envelope(payload, header_id=locked.whop_id or "")
            locked.event_type = envelope.event_type[:64]
            locked.envelope = envelope.envelope
            status, result, membership = _dispatch(envelope.event_type, envelope.data)
            locked.status = status
            locked.result = result
            locked.error = ""
            locked.membership = membership
            locked.user = membership.user if membership is not None else None
            locked.processed_at = timezone.now()
            locked.save()
            return locked
    except WhopShapeError as exc:
        logger.error("whop event %s has an unexpected shape: %s", event.whop_id, exc)
        error = f"unexpected shape: {exc}"
    except Exception as exc:  # stored for support; the sender gets no 500 to retry against
        logger.exception("whop event %s failed", event.whop_id)
        error = f"{type(exc).__name__}: {exc}"
    WhopEvent.objects.filter(pk=event.pk).update(
        status=WhopEvent.Status.FAILED, error=error[:5000], processed_at=timezone.now()
    )
    event.refresh_from_db()
    return event


def _dispatch(event_type: str, data: dict[str, Any]) -> tuple[str, str, Membership | None]:
    if event_type in GRANT_TYPES or event_type in REVOKE_TYPES:
        parsed = parse_membership(data)
        applied = membership_apply(parsed=parsed, revoke=event_type in REVOKE_TYPES)
        return WhopEvent.Status.PROCESSED, applied.summary, applied.membership
    if event_type in PAYMENT_TYPES:
        result, membership = _payment_apply(event_type=event_type, data=data)
        return WhopEvent.Status.PROCESSED, result, membership
    return WhopEvent.Status.IGNORED, f"type {event_type!r} is not handled", None


# --- membership sync ------------------------------------------------------------------------


def membership_sync(*, trigger: str, client: WhopClient | None = None) -> WhopSyncRun:
    """Page through Whop's memberships and reconcile each one. Every unexpected shape is
    counted, logged with the offending part and kept on the run (D14); nothing is skipped
    silently. Staff grants are never touched. Expired staff grants pause trading."""
    run = WhopSyncRun.objects.create(trigger=trigger)
    errors: list[str] = []
    if settings.WHOP_API_KEY == "" and client is None:
        errors.append("WHOP_API_KEY is not set: billing sync is off")
        run.status = WhopSyncRun.Status.FAILED
    else:
        client = client if client is not None else WhopClient(api_key=settings.WHOP_API_KEY)
        try:
            for page in client.memberships_pages(company_id=settings.WHOP_COMPANY_ID):
                run.pages += 1
                for index, raw in enumerate(page.memberships):
                    _sync_one(
                        run=run, raw=raw, path=f"page {run.pages} data[{index}]", errors=errors
                    )
            run.status = WhopSyncRun.Status.PARTIAL if errors else WhopSyncRun.Status.OK
        except WhopShapeError as exc:
            run.shape_errors += 1
            errors.append(f"page {run.pages + 1}: {exc}")
            logger.error("whop sync: page %d has an unexpected shape: %s", run.pages + 1, exc)
            run.status = WhopSyncRun.Status.FAILED
        except WhopApiError as exc:
            errors.append(str(exc))
            logger.error("whop sync failed: %s", exc)
            run.status = WhopSyncRun.Status.FAILED
        run.rate_limited = client.rate_limited
    paused = TradingPause.objects.filter(user=OuterRef("pk"), ended_at=None)
    for user in (
        User.objects.filter(
            memberships__source=Membership.Source.STAFF,
            memberships__period_end__lte=timezone.now(),
        )
        .exclude(Exists(paused))
        .distinct()
    ):
        access_refresh(user=user, reason="staff grant ended")
    run.errors = errors[:200]
    run.finished_at = timezone.now()
    run.save()
    return run


def _sync_one(*, run: WhopSyncRun, raw: Any, path: str, errors: list[str]) -> None:
    try:
        parsed = parse_membership(raw, path=path)
        run.memberships_seen += 1
        applied = membership_apply(parsed=parsed, path=path)
    except WhopShapeError as exc:
        run.shape_errors += 1
        errors.append(str(exc))
        logger.error("whop sync: membership with an unexpected shape: %s", exc)
        return
    if applied.user is None:
        run.skipped_unknown_inactive += 1
    run.memberships_changed += int(applied.changed)
    run.users_created += int(applied.user_created)


def whop_api_key_verify() -> dict[str, Any]:
    """Ask Whop whether WHOP_API_KEY works (D13); the answer is cached for the health panel."""
    status: dict[str, Any] = {"checked_at": timezone.now().isoformat()}
    if settings.WHOP_API_KEY == "":
        status.update(ok=False, error="WHOP_API_KEY is not set: billing sync is off")
    else:
        try:
            WhopClient(api_key=settings.WHOP_API_KEY).verify_api_key(
                company_id=settings.WHOP_COMPANY_ID
            )
        except WhopApiError as exc:
            status.update(ok=False, error=str(exc))
            logger.critical("WHOP_API_KEY check failed: %s", exc)
        else:
            status.update(ok=True)
    cache.set(WHOP_KEY_STATUS_CACHE_KEY, status, timeout=None)
    return status


# --- e-mail ---------------------------------------------------------------------------------

SUBJECTS: dict[str, str] = {
    EmailDelivery.Kind.ACTIVATION: "Activate your Bracketeer account",
    EmailDelivery.Kind.PASSWORD_RESET: "Reset your Bracketeer password",
}


def _email_queue(*, user: User, kind: str) -> EmailDelivery:
    delivery = EmailDelivery.objects.create(
        user=user, to_email=user.email, kind=kind, subject=SUBJECTS[kind]
    )
    from billing.tasks import email_delivery_send

    transaction.on_commit(lambda: email_delivery_send.delay(delivery.pk))
    return delivery


def activation_send(*, user: User) -> EmailDelivery:
    """Queue an activation e-mail (the link is made at send time, valid 72 hours)."""
    return _email_queue(user=user, kind=EmailDelivery.Kind.ACTIVATION)


def password_reset_request(*, email: str) -> EmailDelivery | None:
    """A reset link for an active account; an activation link for one never activated;
    nothing for an unknown address (the page says the same either way)."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        return None
    if user.is_active:
        return _email_queue(user=user, kind=EmailDelivery.Kind.PASSWORD_RESET)
    if Membership.objects.filter(user=user).exists():
        return _email_queue(user=user, kind=EmailDelivery.Kind.ACTIVATION)
    return None


def _email_body(*, delivery: EmailDelivery, user: User) -> str:
    if delivery.kind == EmailDelivery.Kind.ACTIVATION:
        path = reverse("billing:activate", kwargs={"token": activation_token_make(user=user)})
        template = "billing/email/activation.txt"
    else:
        from django.contrib.auth.tokens import default_token_generator

        path = reverse(
            "billing:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        template = "billing/email/password_reset.txt"
    return render_to_string(template, {"user": user, "link": f"{settings.SITE_URL}{path}"})


def email_delivery_attempt(*, delivery_id: int, final: bool) -> bool:
    """Try to send one delivery; True when sent. A failure is recorded (error, attempts) and
    the delivery stays ``retrying``, or becomes ``failed`` when ``final`` (D24)."""
    delivery = EmailDelivery.objects.select_related("user").get(pk=delivery_id)
    if delivery.status == EmailDelivery.Status.SENT:
        return True
    user = delivery.user
    if user is None:
        delivery.status = EmailDelivery.Status.FAILED
        delivery.last_error = "the user was deleted"
        delivery.save(update_fields=["status", "last_error"])
        return True
    delivery.attempts += 1
    try:
        EmailMessage(
            subject=delivery.subject,
            body=_email_body(delivery=delivery, user=user),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.to_email],
        ).send()
    except Exception as exc:  # any provider failure: recorded verbatim, retried by the task
        delivery.status = EmailDelivery.Status.FAILED if final else EmailDelivery.Status.RETRYING
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.save(update_fields=["status", "last_error", "attempts"])
        logger.error(
            "e-mail %s (%s) attempt %d failed: %s",
            delivery.pk,
            delivery.kind,
            delivery.attempts,
            delivery.last_error,
        )
        return False
    delivery.status = EmailDelivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["status", "sent_at", "attempts"])
    return True


def email_delivery_retry(*, delivery: EmailDelivery) -> None:
    """Send a failed delivery again (from the admin)."""
    EmailDelivery.objects.filter(pk=delivery.pk).update(status=EmailDelivery.Status.PENDING)
    from billing.tasks import email_delivery_send

    transaction.on_commit(lambda: email_delivery_send.delay(delivery.pk))


# --- activation -----------------------------------------------------------------------------


@transaction.atomic
def user_activate(*, user: User, password: str) -> User:
    """Set the password chosen from the activation link and activate the account.
    The password is validated by the caller's form (Django's SetPasswordForm)."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user


def whop_key_status() -> dict[str, Any] | None:
    """The last WHOP_API_KEY check (see ``whop_api_key_verify``), or None if never run."""
    status = cache.get(WHOP_KEY_STATUS_CACHE_KEY)
    return status if isinstance(status, dict) else None
