"""What is open now on the accounts a close-all acted on: the part of the close-all result
page that re-reads itself (``static/js/poll.js``) until every account is flat."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Subaccount, User
from accounts.tenancy import access_by_id
from trading import control
from trading.models import Trader


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _state(request: HttpRequest, subaccounts: list[Subaccount], url: str) -> HttpResponse:
    exposures = control.exposure_read(subaccounts=subaccounts)
    context = {
        "exposures": exposures,
        "nothing_open": all(e.is_flat for e in exposures),
        "state_url": url,
    }
    response = render(request, "trading/_close_state.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def trader_close_state(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    return _state(request, control.trader_subaccounts(trader=trader), request.path)


@login_required
@require_GET
def account_close_state(request: HttpRequest, pk: int) -> HttpResponse:
    subaccount = access_by_id(model=Subaccount, user=_user(request), pk=pk)
    return _state(request, [subaccount], request.path)
