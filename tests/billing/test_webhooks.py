"""The Whop webhook: signatures, both envelopes, every handled type, redelivery, bad input."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from billing.models import Membership, TradingPause, WhopEvent
from tests.billing.whop_fixtures import (
    WEBHOOK_URL,
    MembershipFactory,
    current_event,
    elite,
    legacy_event,
    membership_data,
    send_queued_emails,
    signed_headers,
)

pytestmark = pytest.mark.django_db


def post(body: bytes, headers: dict[str, Any] | None = None) -> Any:
    client = Client(enforce_csrf_checks=True)
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        **(signed_headers(body) if headers is None else headers),
    )


def test_signed_activation_creates_an_inactive_user_and_sends_the_activation_email(
    django_capture_on_commit_callbacks: Any,
) -> None:
    plan = elite()
    body = current_event("membership.activated", membership_data(email="New.Buyer@Example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = post(body)
    assert response.status_code == 200
    user = User.objects.get(email="new.buyer@example.com")
    assert not user.is_active and not user.has_usable_password()
    membership = Membership.objects.get(whop_id="mem_1")
    assert (membership.user, membership.plan, membership.status) == (user, plan, "active")
    event = WhopEvent.objects.get()
    assert (event.status, event.envelope, event.event_type) == (
        "processed",
        "current",
        "membership.activated",
    )
    assert "account created" in event.result
    assert send_queued_emails() == 1
    assert len(mail.outbox) == 1
    assert "/accounts/activate/" in mail.outbox[0].body
    assert mail.outbox[0].to == ["new.buyer@example.com"]


def test_a_bad_signature_is_a_401_stored_for_support_and_never_processed() -> None:
    body = current_event("membership.activated", membership_data())
    headers = signed_headers(body, secret="ws_someone-elses-secret-0000000000000000")
    response = post(body, headers)
    assert response.status_code == 401
    event = WhopEvent.objects.get()
    assert event.status == "rejected" and event.whop_id is None
    assert event.claimed_id == headers["HTTP_WEBHOOK_ID"]
    assert "signature" in event.error
    assert not User.objects.filter(email="new.buyer@example.com").exists()
    # The genuine delivery with the same id is still accepted afterwards.
    genuine = signed_headers(body, msg_id=headers["HTTP_WEBHOOK_ID"])
    assert post(body, genuine).status_code == 200
    assert User.objects.filter(email="new.buyer@example.com").exists()


def test_the_key_is_the_raw_secret_not_its_base64_decoding() -> None:
    # A verifier handed the dashboard secret as-is would base64-decode it and reject this.
    body = current_event("membership.activated", membership_data())
    assert post(body).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {
            "HTTP_WEBHOOK_ID": "msg_1",
            "HTTP_WEBHOOK_TIMESTAMP": "1",
            "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
        },
        {
            "HTTP_WEBHOOK_ID": "msg_1",
            "HTTP_WEBHOOK_TIMESTAMP": "soon",
            "HTTP_WEBHOOK_SIGNATURE": "x",
        },
        {
            "HTTP_WEBHOOK_ID": "msg_1",
            "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
            "HTTP_WEBHOOK_SIGNATURE": "v1,%%%",
        },
    ],
    ids=["unsigned", "wrong", "garbage-timestamp", "garbage-signature"],
)
def test_unsigned_or_garbage_headers_are_401_never_500(headers: dict[str, str]) -> None:
    assert post(b'{"type": "membership.activated"}', headers).status_code == 401
    assert WhopEvent.objects.get().status == "rejected"


def test_a_stale_timestamp_is_rejected() -> None:
    body = current_event("membership.activated", membership_data())
    response = post(body, signed_headers(body, timestamp=int(time.time()) - 6 * 60))
    assert response.status_code == 401
    assert "too old" in WhopEvent.objects.get().error


def test_several_signatures_in_one_header_any_valid_one_passes() -> None:
    body = current_event("membership.activated", membership_data())
    headers = signed_headers(body)
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,bm90LXRoaXMtb25l " + headers["HTTP_WEBHOOK_SIGNATURE"]
    assert post(body, headers).status_code == 200


def test_a_replayed_delivery_is_answered_200_and_applied_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    elite()
    body = current_event("membership.activated", membership_data())
    headers = signed_headers(body)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(body, headers)
        second = post(body, headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "already received"}
    event = WhopEvent.objects.get()
    assert event.deliveries == 2
    assert Membership.objects.count() == 1
    assert send_queued_emails() == 1


def test_the_legacy_envelope_grants_and_revokes() -> None:
    elite()
    data = {
        "id": "mem_legacy",
        "product": "prod_elite",
        "plan": "plan_elite",
        "user": "user_9",
        "email": "legacy@example.com",
        "valid": True,
        "status": "active",
        "renewal_period_end": 1767225600,
    }
    assert post(legacy_event("membership.went_valid", data)).status_code == 200
    membership = Membership.objects.get(whop_id="mem_legacy")
    assert membership.plan is not None and membership.plan.slug == "elite"
    assert membership.is_valid
    data.update(valid=False, status="expired")
    assert post(legacy_event("membership.went_invalid", data, key="body")).status_code == 200
    membership.refresh_from_db()
    assert membership.status == "expired"
    assert TradingPause.objects.filter(user=membership.user, ended_at=None).exists()
    assert {e.envelope for e in WhopEvent.objects.all()} == {"legacy"}


def test_deactivation_pauses_trading_and_reactivation_ends_the_pause() -> None:
    membership = MembershipFactory.create(whop_id="mem_1")
    user = membership.user
    data = membership_data(email=user.email, status="active")  # still "active" in the payload
    assert post(current_event("membership.deactivated", data)).status_code == 200
    membership.refresh_from_db()
    assert membership.status == "expired"
    pause = TradingPause.objects.get(user=user)
    assert pause.ended_at is None and "mem_1" in pause.reason
    assert post(current_event("membership.activated", data)).status_code == 200
    pause.refresh_from_db()
    assert pause.ended_at is not None


def test_payment_failed_makes_the_membership_past_due_and_succeeded_restores_it() -> None:
    membership = MembershipFactory.create(whop_id="mem_pay")
    payment = {"id": "pay_1", "membership": {"id": "mem_pay"}, "status": "failed"}
    assert post(current_event("payment.failed", payment)).status_code == 200
    membership.refresh_from_db()
    assert membership.status == "past_due" and membership.is_valid
    payment_ok = {"id": "pay_2", "membership_id": "mem_pay", "status": "paid"}
    assert post(legacy_event("payment.succeeded", payment_ok)).status_code == 200
    membership.refresh_from_db()
    assert membership.status == "active"


def test_an_unhandled_type_is_stored_and_ignored() -> None:
    assert post(current_event("dispute.created", {"id": "dsp_1"})).status_code == 200
    event = WhopEvent.objects.get()
    assert event.status == "ignored" and "not handled" in event.result


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'{"type": "membership.activated", "data": null}',
        b'{"type": "membership.activated", "data": {"id": "mem_1", "status": "active", "user": {"email": null}}}',
        b'{"type": "membership.activated", "data": {"id": 5}}',
        b'{"something": "else"}',
    ],
)
def test_signed_bad_input_is_stored_as_failed_never_a_500(body: bytes) -> None:
    response = post(body)
    assert response.status_code == 200
    event = WhopEvent.objects.get()
    assert event.status == "failed" and event.error != ""


def test_a_body_that_is_not_utf8_cannot_be_verified_and_is_401_not_500() -> None:
    # Whop sends UTF-8 JSON; the Standard Webhooks verifier signs text, so this is unverifiable.
    assert post("\u00e9\u00e9 not utf-8".encode("latin-1")).status_code == 401
    assert "UnicodeDecodeError" in WhopEvent.objects.get().error


def test_a_get_is_405_not_500() -> None:
    assert Client().get(WEBHOOK_URL).status_code == 405


def test_without_a_configured_secret_everything_is_rejected(settings: Any) -> None:
    settings.WHOP_WEBHOOK_SECRET = ""
    body = current_event("membership.activated", membership_data())
    assert post(body).status_code == 401
    assert "WHOP_WEBHOOK_SECRET is not set" in WhopEvent.objects.get().error


def test_the_stored_headers_never_include_the_signature() -> None:
    body = json.dumps({"type": "x.y", "data": {}}).encode()
    post(body)
    assert set(WhopEvent.objects.get().headers) == {"webhook-id", "webhook-timestamp"}


def test_with_no_secret_configured_nothing_is_accepted_not_even_an_empty_key_signature(
    settings: Any,
) -> None:
    """An empty WHOP_WEBHOOK_SECRET must not turn into an HMAC key anyone can compute."""
    settings.WHOP_WEBHOOK_SECRET = ""
    elite()
    body = current_event("membership.activated", membership_data(email="forged@example.com"))
    response = Client().post(
        WEBHOOK_URL, data=body, content_type="application/json", **signed_headers(body, secret="")
    )
    assert response.status_code == 401
    assert not User.objects.filter(email="forged@example.com").exists()
    assert "WHOP_WEBHOOK_SECRET is not set" in WhopEvent.objects.get().error


def test_an_unsigned_body_with_a_nul_is_a_401_stored_nul_free_not_a_500() -> None:
    response = post(b'{"type":"x\x00"}', {"HTTP_WEBHOOK_ID": "msg_\x00nul"})
    assert response.status_code == 401
    event = WhopEvent.objects.get()
    assert "\x00" not in event.body and "x\u2400" in event.body


def test_unsigned_posts_store_a_bounded_record_and_are_rate_limited_per_address(
    settings: Any,
) -> None:
    settings.WHOP_REJECTED_PER_MINUTE = 3
    big = b'{"type": "membership.activated", "pad": "' + b"z" * 60_000 + b'"}'
    answers = [post(big, {"REMOTE_ADDR": "203.0.113.9"}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    events = WhopEvent.objects.all()
    assert events.count() == 3  # the refused ones are not stored
    assert all(len(e.body) < 2_100 and "first 2,000 of" in e.body for e in events)
    other = post(b'{"type": "x"}', {"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 401  # another address has its own count
