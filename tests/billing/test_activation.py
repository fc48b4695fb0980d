"""Activation links (72 h, once), resend, password reset, and the pause banner on every page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client

from accounts.models import User
from billing import emails
from billing.models import EmailDelivery
from billing.tokens import activation_token_make
from tests.billing.whop_fixtures import (
    WEBHOOK_URL,
    MembershipFactory,
    current_event,
    elite,
    membership_data,
    send_queued_emails,
    signed_headers,
)

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-password-77"


def link_in(message: Any) -> str:
    match = re.search(r"http://\S+", message.body)
    assert match is not None
    return match.group(0).removeprefix("http://localhost:8000")


def inactive_user() -> User:
    user = User(email="fresh@example.com", is_active=False)
    user.set_unusable_password()
    user.save()
    return user


def test_the_link_sets_a_password_logs_in_and_lands_on_the_dashboard() -> None:
    user = inactive_user()
    emails.activation_send(user=user)
    send_queued_emails()
    link = link_in(mail.outbox[0])
    client = Client()
    assert client.get(link).status_code == 200
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user.refresh_from_db()
    assert user.is_active and user.check_password(NEW_PASSWORD)
    assert client.get("/dashboard/").status_code == 200
    # Used once: the same link is now refused, with a way to get a new one.
    again = Client().get(link).content.decode()
    assert "already been used" in again and "Send a new link" in again


def test_a_link_older_than_72_hours_is_refused(monkeypatch: Any) -> None:
    user = inactive_user()
    token = activation_token_make(user=user)
    real_loads = signing.loads
    monkeypatch.setattr(
        signing,
        "loads",
        lambda *a, **k: real_loads(*a, **{**k, "max_age": timedelta(seconds=-1)}),
    )
    page = Client().get(f"/accounts/activate/{token}/").content.decode()
    assert "expired" in page and "72 hours" in page


def test_a_weak_password_is_refused_with_the_reason() -> None:
    user = inactive_user()
    token = activation_token_make(user=user)
    response = Client().post(
        f"/accounts/activate/{token}/", {"new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_resend_from_the_login_side_sends_a_fresh_activation_link() -> None:
    user = inactive_user()
    MembershipFactory.create(user=user)
    response = Client().post("/accounts/activate/resend/", {"email": "FRESH@example.com"})
    assert response.status_code == 302
    delivery = EmailDelivery.objects.get()
    assert delivery.kind == "activation" and delivery.user == user
    # An unknown address gets the same answer and no e-mail.
    assert Client().post("/accounts/activate/resend/", {"email": "nobody@x.com"}).status_code == 302
    assert EmailDelivery.objects.count() == 1


def test_password_reset_through_the_recorded_delivery(user: User) -> None:
    client = Client()
    response = client.post("/accounts/password-reset/", {"email": user.email})
    assert response.status_code == 302
    send_queued_emails()
    link = link_in(mail.outbox[0])
    confirm = client.get(link)
    assert confirm.status_code == 302  # Django moves the token into the session
    done = client.post(
        confirm["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_login_page_links_to_password_reset() -> None:
    assert "/accounts/password-reset/" in Client().get("/accounts/login/").content.decode()


def test_a_paused_user_sees_the_banner_on_every_page(user: User, owner_client: Client) -> None:
    elite()
    MembershipFactory.create(user=user, whop_id="mem_1")
    body = current_event(
        "membership.deactivated", membership_data(email=user.email, status="expired")
    )
    Client().post(WEBHOOK_URL, data=body, content_type="application/json", **signed_headers(body))
    for url in ("/dashboard/", "/accounts/connections/", "/billing/"):
        page = owner_client.get(url).content.decode()
        assert "Trading is paused." in page, url
        assert "nothing was deleted" in page


def test_past_due_shows_a_payment_warning(user: User, owner_client: Client) -> None:
    MembershipFactory.create(user=user, status="past_due")
    assert "Your last payment failed." in owner_client.get("/dashboard/").content.decode()


def test_no_banner_for_a_member_in_good_standing(user: User, owner_client: Client) -> None:
    MembershipFactory.create(user=user)
    assert 'id="billing-banner"' not in owner_client.get("/dashboard/").content.decode()
