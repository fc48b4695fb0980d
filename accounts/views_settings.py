"""The user's settings page: time zone, password, e-mail. One page, three forms; each POST
names its form in ``form`` and only that form is validated."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms_settings import EmailChangeForm, TimeZoneForm
from accounts.models import User
from accounts.services import user_email_change, user_time_zone_set

FORMS = ("time_zone", "password", "email")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    data = request.POST if which else None
    forms: dict[str, Any] = {
        "time_zone": TimeZoneForm(
            data if which == "time_zone" else None, initial={"time_zone": user.time_zone}
        ),
        "password": PasswordChangeForm(user, data if which == "password" else None),
        "email": EmailChangeForm(data if which == "email" else None, user=user),
    }
    if request.method == "POST":
        if which not in FORMS:
            return HttpResponse(
                f"Say which settings to save: form={' or '.join(FORMS)}.",
                status=400,
                content_type="text/plain",
            )
        form = forms[which]
        if form.is_valid():
            if which == "time_zone":
                user_time_zone_set(user=user, time_zone=form.cleaned_data["time_zone"])
                messages.success(request, f"Times are now shown in {user.time_zone}.")
                return redirect("accounts:settings")
            if which == "password":
                form.save()
                update_session_auth_hash(request, form.user)  # stay logged in here
                messages.success(request, "Your password is changed.")
                return redirect("accounts:settings")
            try:
                user_email_change(user=user, email=form.cleaned_data["email"])
            except IntegrityError:
                user.refresh_from_db()
                form.add_error("email", "Another account already uses this e-mail address.")
            else:
                messages.success(request, f"Your e-mail address is now {user.email}.")
                return redirect("accounts:settings")
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render(request, "accounts/settings.html", {"forms": forms}, status=status)
