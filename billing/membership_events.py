"""Whop intake: webhooks received and applied, membership sync, API key check."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import User
from billing.models import Membership, TradingPause, WhopEvent, WhopSyncRun
from billing.schema import WhopShapeError, parse_envelope, parse_membership, payment_membership_id
from billing.services import access_refresh, membership_apply
from billing.whop import WhopApiError, WhopClient
from config.rate_limit import rate_take

logger = logging.getLogger(__name__)

GRANT_TYPES = frozenset({"membership.activated", "membership.went_valid"})
REVOKE_TYPES = frozenset({"membership.deactivated", "membership.went_invalid"})
PAYMENT_TYPES = frozenset({"payment.succeeded", "payment.failed"})
MAX_STORED_BODY = 64_000
REJECTED_BODY_CHARS = 2_000  # of an unsigned post: enough for support to see what it was
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
WHOP_KEY_STATUS_CACHE_KEY = "billing:whop-api-key-status"


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
    retry_after: int | None = None


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


def whop_webhook_receive(
    *, body: bytes, headers: Mapping[str, str], client: str = ""
) -> WebhookOutcome:
    """Verify, store (unique by ``webhook-id``) and apply one Whop webhook.

    A bad signature is stored as rejected (never processed: its first ``REJECTED_BODY_CHARS``
    characters only) and answered 401; past ``WHOP_REJECTED_PER_MINUTE`` of them a minute from
    one ``client`` address, answered 429 and not stored (anyone can post here). A redelivery
    is answered 200 and not applied again. An unhandled type is stored as ignored. Nothing
    here answers 500: an unexpected failure while applying is stored on the event for support;
    a NUL anywhere is stored as U+2400.
    """
    wanted = {k: headers.get(k, "").replace("\x00", "") for k in SIGNATURE_HEADERS}
    header_id = wanted["webhook-id"][:128]
    stored_headers = {"webhook-id": header_id, "webhook-timestamp": wanted["webhook-timestamp"]}
    # NUL-free (PostgreSQL's text refuses it): U+2400 shows where one was.
    text = body[:MAX_STORED_BODY].decode("utf-8", errors="replace").replace("\x00", "\u2400")
    if settings.WHOP_WEBHOOK_SECRET == "":
        problem: str | None = "WHOP_WEBHOOK_SECRET is not set: cannot verify"
    else:
        problem = _verify(body=body, headers=wanted)
    if problem is not None:
        wait = rate_take(
            key=f"whop-rejected:{client}",
            limit=settings.WHOP_REJECTED_PER_MINUTE,
            window_seconds=60,
        )
        if wait is not None:
            logger.warning("whop webhook from %s rejected and not stored: too many", client)
            return WebhookOutcome(429, "too many unsigned requests", None, retry_after=wait)
        kept = text[:REJECTED_BODY_CHARS]
        if len(text) > REJECTED_BODY_CHARS:
            kept += f"… (first {REJECTED_BODY_CHARS:,} of {len(body):,} bytes)"
        event = WhopEvent.objects.create(
            claimed_id=header_id,
            status=WhopEvent.Status.REJECTED,
            error=f"signature rejected: {problem}",
            body=kept,
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


def whop_key_status() -> dict[str, Any] | None:
    """The last WHOP_API_KEY check (see ``whop_api_key_verify``), or None if never run."""
    status = cache.get(WHOP_KEY_STATUS_CACHE_KEY)
    return status if isinstance(status, dict) else None
