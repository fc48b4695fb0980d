"""The execution-quality page: slippage, latency and rejects per strategy and account."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from analytics.forms import ExecutionFilterForm
from analytics.selectors_execution import execution_quality, rejects_by_broker_reason


@login_required
def execution(request: HttpRequest) -> HttpResponse:
    """Per strategy and account: slippage against the alert's price, latency from receipt to
    the broker's acceptance and to the fill, rejects by the broker's words. Default: the last
    30 days in the user's time zone. Filters in the wrong order: 400 with the reason."""
    user = request.user
    assert isinstance(user, User)
    form = ExecutionFilterForm(request.GET, user=user)
    scope = form.scope()
    context = {
        "form": form,
        "scope": scope,
        "rows": execution_quality(scope=scope),
        "rejects": rejects_by_broker_reason(scope=scope),
    }
    return render(
        request, "analytics/execution.html", context, status=200 if form.is_valid() else 400
    )
