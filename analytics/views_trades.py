"""The trades pages: the filtered table with its metrics (and CSV export), one trade, and
setting a fee rate. Views parse, call selectors and services, render."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.tenancy import tenant_queryset
from analytics.forms import FeeRateForm, TradeFilterForm
from analytics.models import FeeRate
from analytics.presentation import EQUITY_POINTS_MAX, csv_rows, equity_points
from analytics.selectors import metrics_for, trade_for, trades_in
from analytics.services import fee_rate_set

PER_PAGE = 50


class _Echo:
    """A file-like object whose write returns the line: csv.writer feeds a stream with it."""

    def write(self, value: str) -> str:
        return value


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _csv(scope: Any) -> StreamingHttpResponse:
    trades = trades_in(scope=scope).select_related("subaccount").iterator(chunk_size=2000)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(trades, zone=scope.zone)),
        content_type="text/csv",
    )
    response["Content-Disposition"] = 'attachment; filename="bracketeer-trades.csv"'
    return response


@login_required
def trade_list(request: HttpRequest) -> HttpResponseBase:
    """The user's trades under the GET filters, the metrics of the closed ones, P&L by weekday
    and hour; ``?format=csv`` streams the same trades as CSV."""
    user = _user(request)
    form = TradeFilterForm(request.GET, user=user)
    scope = form.scope()
    if request.GET.get("format") == "csv":
        return _csv(scope)
    pages = Paginator(trades_in(scope=scope).select_related("subaccount"), PER_PAGE)
    page = pages.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    metrics = metrics_for(scope=scope)
    context = {
        "form": form,
        "page": page,
        "metrics": metrics,
        "equity": equity_points(metrics.equity_curve, zone=scope.zone),
        "equity_most": EQUITY_POINTS_MAX,
        "query": query.urlencode(),
        "fee_form": FeeRateForm(user=user),
        "fee_rates": tenant_queryset(model=FeeRate, user=user).select_related("connection"),
        "zone": scope.zone,
    }
    status = 400 if form.is_bound and form.errors else 200  # said on the page; no filter used
    return render(request, "analytics/trade_list.html", context, status=status)


@login_required
def trade_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One trade (404 for another user's): fills, signals with the alert price against the
    entry fill, MFE/MAE, P&L and fees."""
    return render(
        request, "analytics/trade_detail.html", {"d": trade_for(user=_user(request), pk=pk)}
    )


@login_required
@require_POST
def fee_rate_save(request: HttpRequest) -> HttpResponse:
    """Set a fee per contract for a root on one of the user's connections; the service
    rebuilds that root's trades. Its refusal (unknown root, negative fee) is shown as is."""
    form = FeeRateForm(request.POST, user=_user(request))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("analytics:trade_list")
    data = form.cleaned_data
    try:
        rebuilt = fee_rate_set(
            connection=data["connection"], root=data["root"], per_contract=data["per_contract"]
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        root = data["root"].strip().upper()
        messages.success(
            request,
            f"{root} on {data['connection'].label}: ${data['per_contract']} per contract per "
            f"side. {rebuilt} trade{'s' if rebuilt != 1 else ''} recalculated.",
        )
    return redirect("analytics:trade_list")
