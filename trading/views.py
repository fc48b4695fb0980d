from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import broker_connections_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    connections = broker_connections_for(user=request.user)  # type: ignore[arg-type]
    return render(request, "trading/dashboard.html", {"connections": connections})
