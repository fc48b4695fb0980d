"""Archiving a strategy or a trader: a confirmation page that lists what stops (GET), the
archive (POST), and a restore. Nothing is deleted (``trading.archive``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.tenancy import access_by_id
from trading import archive
from trading.models import Strategy, Trader

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@GET_POST
def strategy_archive(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = access_by_id(model=Strategy, user=_user(request), pk=pk)
    if request.method == "POST":
        archive.strategy_archive(strategy=strategy)
        messages.success(
            request,
            f"Archived “{strategy.name}”. Its webhook URL no longer accepts alerts; its "
            "signals stay in the log.",
        )
        return redirect("trading:strategy_list")
    return render(
        request,
        "trading/strategy_archive.html",
        {"strategy": strategy, "stops": archive.strategy_archive_stops(strategy=strategy)},
    )


@login_required
@require_POST
def strategy_restore(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = access_by_id(model=Strategy, user=_user(request), pk=pk)
    archive.strategy_restore(strategy=strategy)
    messages.success(
        request, f"Restored “{strategy.name}”. It is off: switch it on under Edit when ready."
    )
    return redirect("trading:strategy_detail", pk=strategy.pk)


@login_required
@GET_POST
def trader_archive(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    if request.method == "POST":
        archive.trader_archive(trader=trader)
        messages.success(
            request,
            f"Archived “{trader.name}”. No alert acts on its accounts any more; open positions "
            "were not touched.",
        )
        return redirect("trading:trader_list")
    return render(
        request,
        "trading/trader_archive.html",
        {"trader": trader, "stops": archive.trader_archive_stops(trader=trader)},
    )


@login_required
@require_POST
def trader_restore(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    archive.trader_restore(trader=trader)
    messages.success(request, f"Restored “{trader.name}”. It is off: switch it on when ready.")
    return redirect("trading:trader_detail", pk=trader.pk)
