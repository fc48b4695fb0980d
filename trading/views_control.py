"""The control centre: traders on and off, and closing what is open (Z7: a product feature).

Closing reads the broker, asks for confirmation of exactly what it showed (a fingerprint), then
closes: everything on a trader's accounts, everything on one account, or, given ``?contract=``,
one position (that contract's working orders, then the position). The result page's state part
re-reads the accounts (``static/js/poll.js``) until they are flat; ``static/js/live.js`` makes
it re-read at once when the live channel says one of them changed.

Thin views: parse, call ``trading.control``, render; every object through ``accounts.tenancy``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Subaccount, User
from accounts.tenancy import access_by_id, tenant_queryset
from billing.limits import PlanLimitError
from trading import control
from trading.models import Trader, TraderAccount
from trading.selectors import live_snapshot

GET_POST = require_http_methods(["GET", "HEAD", "POST"])

# Where "back" leads from a close page, by the page the close was started on (never a URL
# taken from the request: no open redirect).
BACK = {"dashboard": ("dashboard", "Dashboard"), "": ("trading:control", "Control centre")}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _contract(request: HttpRequest) -> int | None:
    """The contract of a one-position close (``?contract=<broker contract id>``), or None."""
    text = request.GET.get("contract", "")
    if text == "":
        return None
    if not text.isdigit():
        raise BadRequest("contract must be the broker's contract id (digits).")
    return int(text)


def _back(request: HttpRequest) -> tuple[str, str]:
    name, label = BACK.get(request.GET.get("from", ""), BACK[""])
    return reverse(name), label


@login_required
@require_GET
def control_centre(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    traders = (
        tenant_queryset(model=Trader, user=user)
        .filter(archived_at__isnull=True)
        .select_related("strategy")
        .prefetch_related(
            Prefetch(
                "accounts",
                queryset=TraderAccount.objects.select_related("subaccount__connection"),
            )
        )
    )
    live = {a["account"]["id"]: a for a in live_snapshot(user=user)["accounts"]}
    for trader in traders:
        for account in trader.accounts.all():  # the prefetched rows the page renders
            setattr(account, "live", live.get(account.subaccount_id))  # noqa: B010
    return render(request, "trading/control.html", {"traders": traders, "live": live})


@login_required
@require_POST
def trader_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        return HttpResponse(
            'Say "enabled=on" or "enabled=off".', status=400, content_type="text/plain"
        )
    try:
        control.trader_enabled_set(trader=trader, enabled=wanted == "on")
    except (PlanLimitError, ValueError) as exc:
        messages.error(request, f"“{trader.name}” stays off: {exc}")
    else:
        messages.success(
            request,
            f"“{trader.name}” is {'on' if trader.enabled else 'off'}."
            + ("" if trader.enabled else " Open positions were not touched."),
        )
    return redirect("trading:control")


def _symbol_of(exposures: list[control.AccountExposure], contract_id: int) -> str:
    symbols = [p.symbol for e in exposures for p in e.positions]
    symbols += [o.symbol for e in exposures for o in e.working_orders]
    return symbols[0] if symbols else f"contract {contract_id}"


def _close(
    request: HttpRequest,
    *,
    subaccounts: list[Subaccount],
    what: str,
    state_url: str,
    contract_id: int | None = None,
) -> HttpResponse:
    """Confirmation (GET) and execution (POST) of closing everything on ``subaccounts``, or
    only ``contract_id``'s position and working orders."""
    exposures = control.exposure_read(subaccounts=subaccounts, contract_id=contract_id)
    fingerprint = control.exposure_fingerprint(exposures=exposures)
    if contract_id is not None:
        what = f"{_symbol_of(exposures, contract_id)} on {what}"
    back, back_label = _back(request)
    context: dict[str, Any] = {
        "what": what,
        "one_position": contract_id is not None,
        "back": back,
        "back_label": back_label,
        "exposures": exposures,
        "fingerprint": fingerprint,
        "nothing_open": all(e.is_flat for e in exposures),
        "state_url": state_url,
        "account_ids": " ".join(str(s.pk) for s in subaccounts),
    }
    if request.method == "POST":
        if request.POST.get("fingerprint") != fingerprint:
            context["changed"] = True
            return render(request, "trading/close_confirm.html", context, status=409)
        results = control.positions_close_all(subaccounts=subaccounts, contract_id=contract_id)
        context["results"] = results
        context["all_ok"] = all(r.ok for r in results)
        return render(request, "trading/close_result.html", context)
    return render(request, "trading/close_confirm.html", context)


@login_required
@GET_POST
def trader_close(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    return _close(
        request,
        subaccounts=control.trader_subaccounts(trader=trader),
        what=f"every account of trader “{trader.name}”",
        state_url=reverse("trading:trader_close_state", args=[trader.pk]),
    )


@login_required
@GET_POST
def account_close(request: HttpRequest, pk: int) -> HttpResponse:
    subaccount = access_by_id(model=Subaccount, user=_user(request), pk=pk)
    contract_id = _contract(request)
    state_url = reverse("trading:account_close_state", args=[subaccount.pk])
    return _close(
        request,
        subaccounts=[subaccount],
        what=f"account {subaccount.name}",
        state_url=state_url if contract_id is None else f"{state_url}?contract={contract_id}",
        contract_id=contract_id,
    )


# --- what is open now on the accounts a close acted on (polled until flat) -------------------


def _state(
    request: HttpRequest, subaccounts: list[Subaccount], contract_id: int | None = None
) -> HttpResponse:
    exposures = control.exposure_read(subaccounts=subaccounts, contract_id=contract_id)
    context = {
        "exposures": exposures,
        "nothing_open": all(e.is_flat for e in exposures),
        "state_url": request.get_full_path(),
        "account_ids": " ".join(str(s.pk) for s in subaccounts),
    }
    response = render(request, "trading/_close_state.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def trader_close_state(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    return _state(request, control.trader_subaccounts(trader=trader))


@login_required
@require_GET
def account_close_state(request: HttpRequest, pk: int) -> HttpResponse:
    subaccount = access_by_id(model=Subaccount, user=_user(request), pk=pk)
    return _state(request, [subaccount], _contract(request))
