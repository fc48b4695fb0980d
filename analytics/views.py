"""The dashboard: live positions and orders (``static/js/live.js`` keeps them current), the
latest fills, today's P&L, the equity curve, the month's calendar of daily P&L and the
strategies ranked. Views parse, call selectors, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from accounts.selectors import broker_connections_for
from analytics.forms import MonthForm
from analytics.presentation import (
    EQUITY_POINTS_MAX,
    WEEKDAYS,
    equity_points,
    month_grid,
    month_step,
)
from analytics.selectors import (
    TradeScope,
    daily_pnl,
    metrics_for,
    strategies_ranked,
    today_pnl,
    zone_of,
)
from trading.selectors import fills_recent, live_snapshot


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Everything the trader checks first; works without JS (the chart needs it, the
    calendar and tables do not). ``?month=YYYY-MM`` picks the calendar's month."""
    user = request.user
    assert isinstance(user, User)
    zone = zone_of(user=user)
    scope = TradeScope(user=user, zone=zone)
    today = today_pnl(user=user)
    form = MonthForm(request.GET)
    picked = form.cleaned_data.get("month") if form.is_valid() else None
    month = (picked or today.day).replace(day=1)
    metrics = metrics_for(scope=scope)
    snapshot = live_snapshot(user=user)
    context = {
        "connections": broker_connections_for(user=user),
        "accounts": snapshot["accounts"],
        "fills": fills_recent(user=user),
        "today": today,
        "metrics": metrics,
        "equity": equity_points(metrics.equity_curve, zone=zone),
        "equity_most": EQUITY_POINTS_MAX,
        "month": month,
        "weeks": month_grid(daily_pnl(scope=scope, month=month)),
        "previous_month": month_step(month, -1),
        "next_month": month_step(month, 1),
        "ranked": strategies_ranked(scope=scope),
        "zone": zone,
        "weekday_names": WEEKDAYS,
    }
    return render(request, "analytics/dashboard.html", context)
