"""The API keys page: create a key (its secret shown once, on this response only) and revoke.

The secret goes straight into the page that answers the POST: never into a redirect, a
message (cookies) or a log. The list shows name, prefix, scope and dates, never the secret.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from api.forms import ApiKeyCreateForm
from api.selectors import api_key_by_id, api_keys_of
from api.services import api_key_create, api_key_revoke
from billing.limits import PlanLimitError


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            created, secret = api_key_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=expires_at,
            )
        except PlanLimitError as exc:
            form.add_error(None, str(exc))
        else:
            form = ApiKeyCreateForm()
    context = {
        "form": form,
        "keys": api_keys_of(user=user),
        "created": created,
        "secret": secret,
        "now": timezone.now(),
    }
    return render(request, "api/api_keys.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    key = api_key_by_id(user=_user(request), pk=pk)
    api_key_revoke(api_key=key)
    messages.success(request, f"Revoked “{key.name}” ({key.prefix}…): it no longer works.")
    return redirect("api_keys:list")
