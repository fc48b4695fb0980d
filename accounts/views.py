from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import DetailView, ListView

from accounts.forms import LoginForm, SignupForm
from accounts.forms_connections import BrokerConnectionForm, ConnectionDeleteForm
from accounts.mixins import TenantScopedMixin
from accounts.models import BrokerConnection
from accounts.selectors import broker_connection_by_id, broker_connections_for
from accounts.services import (
    ConnectionStillOpen,
    broker_connection_archive,
    broker_connection_open_check,
    signup_confirm,
    signup_request,
)
from billing.limits import PlanLimitError
from billing.tokens import ActivationLinkInvalid, activation_token_user
from trading.brokers.base import BrokerError
from trading.brokers.services import broker_connection_create, broker_connection_test


def signup(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not the address has an account (``signup_request`` e-mails
    the owner instead): a page that said "already exists" told anyone who is a customer."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        signup_request(email=email, password=form.cleaned_data["password1"])
        messages.info(
            request,
            f"Check your inbox: we sent a message to {email}. "
            "Follow its link within 72 hours to finish signing up.",
        )
        return redirect("accounts:login")
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def signup_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the sign-up e-mail: a button (a GET changes nothing, so a mail scanner
    opening the link does not use it up), then the account is active and logged in."""
    try:
        owner = activation_token_user(token=token)
    except ActivationLinkInvalid as exc:
        return render(request, "accounts/signup_confirm.html", {"reason": str(exc)}, status=400)
    if not owner.has_usable_password():  # a Whop purchase: its link chooses a password
        return redirect("billing:activate", token=token)
    if request.user.is_authenticated and request.user.pk != owner.pk:
        raise Http404("This link belongs to another account.")
    if request.method == "POST":
        user = signup_confirm(user=owner)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Bracketeer. Your account is ready.")
        return redirect("dashboard")
    return render(request, "accounts/signup_confirm.html", {"email": owner.email})


class BracketeerLoginView(LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class ConnectionListView(TenantScopedMixin, ListView):
    model = BrokerConnection
    template_name = "accounts/connection_list.html"
    context_object_name = "connections"

    def get_queryset(self) -> Any:
        return broker_connections_for(user=self.request.user)


class ConnectionDetailView(TenantScopedMixin, DetailView):
    model = BrokerConnection
    template_name = "accounts/connection_detail.html"
    context_object_name = "connection"

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(archived_at__isnull=True)


@login_required
def connection_create(request: HttpRequest) -> HttpResponse:
    form = BrokerConnectionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        connection = broker_connection_create(
            user=request.user,  # type: ignore[arg-type]
            label=data["label"],
            broker=data["broker"],
            username=data["username"],
            password=data["password"],
            cid=data["cid"],
            sec=data["sec"] or "",
        )
        messages.success(
            request, f"Saved “{connection.label}”. Test it to list its trading accounts."
        )
        return redirect("accounts:connection_detail", pk=connection.pk)
    return render(
        request, "accounts/connection_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = broker_connection_by_id(user=request.user, pk=pk)
    try:
        subaccounts = broker_connection_test(connection=connection)
    except BrokerError as exc:
        messages.error(request, f"Test failed: {exc}")
    except PlanLimitError as exc:
        messages.error(request, f"Connected, but the accounts were not added: {exc}")
    else:
        names = ", ".join(s.name for s in subaccounts) or "none"
        messages.success(request, f"Connected. Trading accounts: {names}.")
    return redirect("accounts:connection_detail", pk=connection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Deleting archives: history stays (``broker_connection_archive``). Refused, with what is
    open listed, while the broker has positions or working orders on its accounts."""
    connection = broker_connection_by_id(user=request.user, pk=pk)
    form = ConnectionDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        label = connection.label
        try:
            broker_connection_archive(
                connection=connection,
                unreadable_confirmed=form.cleaned_data["unreadable_confirmed"],
            )
        except ConnectionStillOpen as exc:
            messages.error(request, f"“{label}” was not deleted: {exc}.")
            check = exc.check
        else:
            messages.success(
                request,
                f"Deleted “{label}”. Its past signals keep their outcomes and orders; "
                "you can add the same login again.",
            )
            return redirect("accounts:connection_list")
    else:
        check = broker_connection_open_check(connection=connection)
    return render(
        request,
        "accounts/connection_confirm_delete.html",
        {"connection": connection, "check": check, "form": form},
        status=409 if request.method == "POST" else 200,
    )
