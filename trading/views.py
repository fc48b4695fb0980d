from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from accounts.selectors import broker_connections_for
from trading.selectors import fills_recent, live_snapshot


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each account's positions and working orders as the mirror holds them (works without JS;
    ``static/js/live.js`` keeps them current), the latest fills and the broker connections."""
    user = request.user
    assert isinstance(user, User)
    snapshot = live_snapshot(user=user)
    context = {
        "connections": broker_connections_for(user=user),
        "accounts": snapshot["accounts"],
        "fills": fills_recent(user=user),
    }
    return render(request, "trading/dashboard.html", context)
