from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView, PasswordResetView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.services import user_login_unlock
from billing.emails import password_reset_request, user_activate
from billing.forms import BillingPasswordResetForm, EmailForm
from billing.membership_events import whop_webhook_receive
from billing.selectors import limits_overview, trading_pause_open
from billing.tokens import ActivationLinkInvalid, activation_token_user


@csrf_exempt  # Whop signs its requests; it has no CSRF cookie (D12)
@require_POST
def whop_webhook(request: HttpRequest) -> JsonResponse:
    outcome = whop_webhook_receive(
        body=request.body, headers=request.headers, client=request.META.get("REMOTE_ADDR", "")
    )
    response = JsonResponse({"status": outcome.message}, status=outcome.status_code)
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def activate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        owner = activation_token_user(token=token)
    except ActivationLinkInvalid as exc:
        return render(
            request,
            "billing/activation_invalid.html",
            {"reason": str(exc), "form": EmailForm()},
        )
    if request.user.is_authenticated:
        if request.user.pk != owner.pk:
            raise Http404("This link belongs to another account.")
        return redirect("dashboard")
    if request.method not in {"GET", "POST"}:
        return HttpResponseNotAllowed(["GET", "POST"])
    form = SetPasswordForm(owner, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_activate(user=owner, password=form.cleaned_data["new_password1"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your account is active. Welcome to Bracketeer.")
        return redirect("dashboard")
    return render(
        request,
        "billing/activate.html",
        {"form": form, "email": owner.email},
        status=400 if form.errors else 200,
    )


def activation_resend(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"])
        messages.success(
            request,
            "If that address has an account, a new link is on its way. It is valid for 72 hours.",
        )
        return redirect("accounts:login")
    return render(request, "billing/activation_resend.html", {"form": form})


class BillingPasswordResetView(PasswordResetView):
    form_class = BillingPasswordResetForm
    template_name = "billing/password_reset_form.html"
    success_url = reverse_lazy("billing:password_reset_done")


class BillingPasswordResetConfirmView(PasswordResetConfirmView):
    template_name = "billing/password_reset_confirm.html"
    success_url = reverse_lazy("billing:password_reset_complete")

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponseBase:
        target = self.get_user(kwargs["uidb64"])
        current = self.request.user
        if current.is_authenticated and target is not None and target.pk != current.pk:
            raise Http404("This link belongs to another account.")
        return super().dispatch(*args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        # The lock-out page says "reset your password": a new password lifts the lock.
        response = super().form_valid(form)
        user_login_unlock(user=form.user)
        return response


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    membership, limits = limits_overview(user=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "billing/overview.html",
        {
            "membership": membership,
            "limits": limits,
            "pause": trading_pause_open(user=request.user),
        },
    )
