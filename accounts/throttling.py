"""Log-in throttling with django-axes (settings: ``AXES_*``): what a failed log-in counts
against, and what a locked-out visitor is told.

Failures count against the account (its e-mail in lower case: ``CASE@x`` and ``case@x`` are
one account) and against the client address, each separately; ``AXES_FAILURE_LIMIT``
failures of either within ``AXES_COOLOFF_TIME`` lock further attempts, the correct password
included, on the site's log-in page and the admin's alike.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.forms import LoginForm


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, never a forwarded header a client can write.

    uvicorn runs with ``--proxy-headers``: behind a trusted proxy (``FORWARDED_ALLOW_IPS``) it
    already puts the proxy's X-Forwarded-For client in ``REMOTE_ADDR``; from anyone else the
    header is ignored, so a client cannot pick a fresh address for every guess.
    """
    return request.META.get("REMOTE_ADDR") or None


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a log-in attempt is for, as stored: the e-mail, trimmed, lower case."""
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()


def _failures(attempts: Any, since: Any) -> tuple[int, Any]:
    found = attempts.filter(attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    return int(found["failures"] or 0), found["last"]


def _minutes_left(last: Any, cool_off: timedelta, now: Any) -> int:
    if last is None:
        return math.ceil(cool_off.total_seconds() / 60)
    return max(1, math.ceil((last + cool_off - now).total_seconds() / 60))


def lockout_message(*, request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """What the visitor is told: which lock applies and when it lifts, in minutes."""
    cool_off = get_cool_off(request) or timedelta(minutes=15)
    now = timezone.now()
    since = now - cool_off
    limit = settings.AXES_FAILURE_LIMIT
    username = get_client_username(request, credentials)
    if username:
        failures, last = _failures(AccessAttempt.objects.filter(username=username), since)
        if failures >= limit:
            minutes = _minutes_left(last, cool_off, now)
            return (
                f"Too many failed log-ins for this account. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''} or reset your password."
            )
    address = get_client_ip_address(request)
    _, last = _failures(AccessAttempt.objects.filter(ip_address=address), since)
    minutes = _minutes_left(last, cool_off, now)
    return (
        f"Too many failed log-ins from your network. Try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}."
    )


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The log-in page again (the site's or the admin's path alike), saying why it refused
    and what to do; 429 Too Many Requests."""
    return render(
        request,
        "accounts/login.html",
        {
            "form": LoginForm(request),
            "lockout_message": lockout_message(request=request, credentials=credentials),
            "next": request.POST.get("next", request.GET.get("next", "")),
        },
        status=429,
    )
