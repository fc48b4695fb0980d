"""E-mail for billing and sign-up: activation, sign-up and password-reset links, delivery and
retry; activation."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from billing.models import EmailDelivery, Membership
from billing.tokens import activation_token_make

logger = logging.getLogger(__name__)

# --- e-mail ---------------------------------------------------------------------------------

SUBJECTS: dict[str, str] = {
    EmailDelivery.Kind.ACTIVATION: "Activate your Bracketeer account",
    EmailDelivery.Kind.PASSWORD_RESET: "Reset your Bracketeer password",
    EmailDelivery.Kind.SIGNUP_CONFIRM: "Confirm your e-mail to finish signing up to Bracketeer",
    EmailDelivery.Kind.SIGNUP_EXISTING: "Someone tried to sign up to Bracketeer with your address",
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


def signup_confirmation_send(*, user: User) -> EmailDelivery:
    """Queue the link that confirms a new sign-up's address (valid 72 hours, once)."""
    return _email_queue(user=user, kind=EmailDelivery.Kind.SIGNUP_CONFIRM)


def signup_existing_send(*, user: User) -> EmailDelivery:
    """Queue the note to an account's owner that someone signed up with their address."""
    return _email_queue(user=user, kind=EmailDelivery.Kind.SIGNUP_EXISTING)


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
    if delivery.kind == EmailDelivery.Kind.SIGNUP_CONFIRM:
        path = reverse(
            "accounts:signup_confirm", kwargs={"token": activation_token_make(user=user)}
        )
        template = "billing/email/signup_confirm.txt"
    elif delivery.kind == EmailDelivery.Kind.SIGNUP_EXISTING:
        return render_to_string(
            "billing/email/signup_existing.txt",
            {
                "user": user,
                "login": f"{settings.SITE_URL}{reverse('accounts:login')}",
                "reset": f"{settings.SITE_URL}{reverse('billing:password_reset')}",
            },
        )
    elif delivery.kind == EmailDelivery.Kind.ACTIVATION:
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
