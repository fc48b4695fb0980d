"""The trading UI: strategies, traders and their accounts (the control centre: views_control).

Thin views: parse, call one service (``trading.control``), render. Every object comes through
``accounts.tenancy`` (another tenant's object is a 404 on read and on write); a form with bad
input is re-rendered with the reason and status 400.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Subaccount, User
from accounts.tenancy import access_by_id, tenant_queryset
from billing.limits import PlanLimitError
from trading import control
from trading.alerts import parse_alert
from trading.forms import (
    LABELS,
    SETTING_NAMES,
    StrategyForm,
    TraderAccountForm,
    TraderForm,
    setting_words,
)
from trading.forms_test_alert import TestAlertForm
from trading.models import (
    SWITCHABLE_OFF,
    Strategy,
    Trader,
    TraderAccount,
)
from trading.preview import signal_preview
from trading.templatetags.display import singular_units
from trading.views_signals import own_outcomes

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _status(form: Any) -> int:
    return 400 if form.errors else 200


def _show_archived(request: HttpRequest) -> bool:
    return request.GET.get("archived") == "1"


def _words(name: str, value: Any) -> str:
    """A setting's value in words, with "1 contract" (not "1 contracts")."""
    return singular_units(setting_words(name, value))


# --- strategies -------------------------------------------------------------------------------

INDICATOR_ALERTS = (
    ("Buy", {"action": "buy", "ticker": "{{ticker}}", "price": "{{close}}"}),
    ("Sell", {"action": "sell", "ticker": "{{ticker}}", "price": "{{close}}"}),
    ("Close", {"action": "close", "ticker": "{{ticker}}", "price": "{{close}}"}),
)
STRATEGY_ALERT = {
    "action": "{{strategy.order.action}}",
    "market_position": "{{strategy.market_position}}",
    "ticker": "{{ticker}}",
    "quantity": "{{strategy.order.contracts}}",
    "price": "{{close}}",
}


def webhook_url(strategy: Strategy) -> str:
    path = reverse("tradingview_webhook", kwargs={"token": strategy.webhook_token})
    return f"{settings.SITE_URL}{path}"


def _warn(request: HttpRequest, form: Any) -> None:
    """A saved form's warnings (legal combinations that block something) follow it to the next
    page, where they would otherwise vanish with the redirect."""
    for text in form.warnings():
        messages.warning(request, text)


@login_required
@require_GET
def strategy_list(request: HttpRequest) -> HttpResponse:
    show_archived = _show_archived(request)
    strategies = tenant_queryset(model=Strategy, user=_user(request)).annotate(
        trader_count=Count("traders", filter=Q(traders__archived_at__isnull=True), distinct=True)
    )
    archived = strategies.filter(archived_at__isnull=False)
    context = {
        "strategies": strategies if show_archived else strategies.filter(archived_at__isnull=True),
        "show_archived": show_archived,
        "archived_count": archived.count(),
    }
    return render(request, "trading/strategy_list.html", context)


@login_required
@GET_POST
def strategy_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = StrategyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            strategy = control.strategy_create(user=user, fields=form.model_fields())
        except PlanLimitError as exc:
            form.add_error(None, str(exc))
        except control.NameTakenError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(
                request, f"Created “{strategy.name}”. Paste its webhook URL into TradingView."
            )
            _warn(request, form)
            return redirect("trading:strategy_detail", pk=strategy.pk)
    return render(
        request,
        "trading/strategy_form.html",
        {"form": form, "strategy": None},
        status=_status(form),
    )


@login_required
@require_GET
def strategy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = access_by_id(model=Strategy, user=_user(request), pk=pk)
    settings_rows = [
        (LABELS[name], _words(name, getattr(strategy, name))) for name in SETTING_NAMES
    ]
    context = {
        "strategy": strategy,
        "webhook_url": webhook_url(strategy),
        "alerts_per_minute": settings.WEBHOOK_ALERTS_PER_MINUTE,
        "indicator_alerts": [(label, json.dumps(body)) for label, body in INDICATOR_ALERTS],
        "strategy_alert": json.dumps(STRATEGY_ALERT),
        "settings_rows": settings_rows,
        "signals": strategy.signals.prefetch_related(
            Prefetch("outcomes", queryset=own_outcomes(_user(request)), to_attr="own_outcomes")
        ).order_by("-received_at", "-id")[:10],
        "traders": tenant_queryset(model=Trader, user=_user(request)).filter(
            strategy=strategy, archived_at__isnull=True
        ),
        "test_form": TestAlertForm(
            default_symbol=control.strategy_test_alert_symbol(strategy=strategy)
        ),
    }
    return render(request, "trading/strategy_detail.html", context)


@login_required
@GET_POST
def strategy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    strategy = access_by_id(model=Strategy, user=user, pk=pk)
    if strategy.archived_at is not None:
        messages.error(request, f"“{strategy.name}” is archived: restore it to edit it.")
        return redirect("trading:strategy_detail", pk=strategy.pk)
    form = StrategyForm(request.POST or None, user=user, instance=strategy)
    if request.method == "POST" and form.is_valid():
        try:
            control.strategy_update(strategy=strategy, fields=form.model_fields())
        except PlanLimitError as exc:
            form.add_error(None, str(exc))
        except control.NameTakenError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Saved “{strategy.name}”.")
            _warn(request, form)
            return redirect("trading:strategy_detail", pk=strategy.pk)
    return render(
        request,
        "trading/strategy_form.html",
        {"form": form, "strategy": strategy},
        status=_status(form),
    )


def _test_alert_form(request: HttpRequest, strategy: Strategy) -> TestAlertForm:
    data = request.POST.copy()
    data.setdefault("action", "buy")
    return TestAlertForm(data, default_symbol=control.strategy_test_alert_symbol(strategy=strategy))


def _bad_test_alert(form: TestAlertForm) -> HttpResponse:
    words = " ".join(
        f"{form.fields[name].label}: {error}"
        for name, errors in form.errors.items()
        for error in errors
    )
    return HttpResponse(words, status=400, content_type="text/plain; charset=utf-8")


def _archived_refusal(request: HttpRequest, strategy: Strategy) -> HttpResponse:
    messages.error(request, f"“{strategy.name}” is archived: restore it to send alerts.")
    return redirect("trading:strategy_detail", pk=strategy.pk)


@login_required
@require_POST
def strategy_test_alert(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = access_by_id(model=Strategy, user=_user(request), pk=pk)
    if strategy.archived_at is not None:
        return _archived_refusal(request, strategy)
    form = _test_alert_form(request, strategy)
    if not form.is_valid():
        return _bad_test_alert(form)
    action = form.cleaned_data["action"]
    received = control.strategy_test_alert_send(
        strategy=strategy, action=action, symbol=form.cleaned_data["symbol"]
    )
    if received.status == "rejected":
        messages.error(request, f"The test alert was rejected: {received.reason}")
    else:
        messages.success(request, f"Test alert sent ({action}): signal {received.signal.pk}.")
    return redirect("trading:signal_detail", pk=received.signal.pk)


@login_required
@require_POST
def strategy_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the test alert would do on each of your accounts now: read from the broker, decided
    by the engine, nothing sent."""
    strategy = access_by_id(model=Strategy, user=_user(request), pk=pk)
    form = _test_alert_form(request, strategy)
    if not form.is_valid():
        return _bad_test_alert(form)
    action = form.cleaned_data["action"]
    body = control.strategy_test_alert_body(
        strategy=strategy, action=action, symbol=form.cleaned_data["symbol"]
    )
    previews = signal_preview(
        strategy=strategy, user=_user(request), alert=parse_alert(json.loads(body))
    )
    context = {"strategy": strategy, "action": action, "body": body.decode(), "previews": previews}
    return render(request, "trading/strategy_preview.html", context)


# --- traders ----------------------------------------------------------------------------------


def _trader_form(request: HttpRequest, *, instance: Trader | None = None) -> TraderForm:
    user = _user(request)
    return TraderForm(
        request.POST or None,
        user=user,
        strategies=control.strategies_followable(user=user),
        instance=instance,
    )


@login_required
@require_GET
def trader_list(request: HttpRequest) -> HttpResponse:
    show_archived = _show_archived(request)
    traders = (
        tenant_queryset(model=Trader, user=_user(request))
        .select_related("strategy")
        .annotate(account_count=Count("accounts", distinct=True))
    )
    context = {
        "traders": traders if show_archived else traders.filter(archived_at__isnull=True),
        "show_archived": show_archived,
        "archived_count": traders.filter(archived_at__isnull=False).count(),
    }
    return render(request, "trading/trader_list.html", context)


@login_required
@GET_POST
def trader_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = _trader_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            trader = control.trader_create(
                user=user, strategy=form.cleaned_data["strategy"], fields=form.model_fields()
            )
        except PlanLimitError as exc:
            form.add_error(None, str(exc))
        except control.NameTakenError as exc:
            form.add_error("name", str(exc))
        except ValueError as exc:
            form.add_error("strategy", str(exc))
        else:
            messages.success(request, f"Created “{trader.name}”. Now add a trading account.")
            _warn(request, form)
            return redirect("trading:trader_detail", pk=trader.pk)
    return render(
        request, "trading/trader_form.html", {"form": form, "trader": None}, status=_status(form)
    )


def _trader_accounts(trader: Trader) -> QuerySet[TraderAccount]:
    return trader.accounts.select_related("subaccount__connection").order_by("id")


def _render_trader(
    request: HttpRequest, trader: Trader, *, account_form: TraderAccountForm | None = None
) -> HttpResponse:
    user = _user(request)
    used = trader.accounts.values_list("subaccount_id", flat=True)
    free = (
        tenant_queryset(model=Subaccount, user=user)
        .filter(active=True)
        .exclude(pk__in=used)
        .select_related("connection")
    )
    form = account_form or TraderAccountForm(subaccounts=free)
    strategy = trader.strategy
    off = {f for name in trader.switched_off for f in SWITCHABLE_OFF[name][1]}
    rows = [
        (
            LABELS[name],
            "off (switched off for this trader)"
            if name in off
            else _words(name, getattr(trader, name))
            if getattr(trader, name) is not None
            else "",
            _words(name, getattr(strategy, name)),
        )
        for name in SETTING_NAMES
    ]
    context = {
        "trader": trader,
        "accounts": _trader_accounts(trader),
        "account_form": form,
        "has_free_accounts": free.exists() or account_form is not None,
        "settings_rows": rows,
        "own_strategy": strategy.user_id == user.pk,
    }
    return render(
        request, "trading/trader_detail.html", context, status=_status(account_form or form)
    )


@login_required
@require_GET
def trader_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    return _render_trader(request, trader)


@login_required
@GET_POST
def trader_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trader = access_by_id(model=Trader, user=_user(request), pk=pk)
    if trader.archived_at is not None:
        messages.error(request, f"“{trader.name}” is archived: restore it to edit it.")
        return redirect("trading:trader_detail", pk=trader.pk)
    form = _trader_form(request, instance=trader)
    if request.method == "POST" and form.is_valid():
        try:
            control.trader_update(
                trader=trader, strategy=form.cleaned_data["strategy"], fields=form.model_fields()
            )
        except PlanLimitError as exc:
            form.add_error(None, str(exc))
        except control.NameTakenError as exc:
            form.add_error("name", str(exc))
        except ValueError as exc:
            form.add_error("strategy", str(exc))
        else:
            messages.success(request, f"Saved “{trader.name}”.")
            _warn(request, form)
            return redirect("trading:trader_detail", pk=trader.pk)
    return render(
        request, "trading/trader_form.html", {"form": form, "trader": trader}, status=_status(form)
    )


@login_required
@require_POST
def trader_account_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    trader = access_by_id(model=Trader, user=user, pk=pk)
    subaccounts = tenant_queryset(model=Subaccount, user=user).filter(active=True)
    form = TraderAccountForm(request.POST, subaccounts=subaccounts.select_related("connection"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            account = control.trader_account_add(
                trader=trader,
                subaccount=data["subaccount"],
                multiplier=data["multiplier"],
                max_contracts=data["max_contracts"],
                enabled=data["enabled"],
            )
        except ValueError as exc:
            form.add_error("subaccount", str(exc))
        else:
            messages.success(request, f"Added {account.subaccount.name}.")
            return redirect("trading:trader_detail", pk=trader.pk)
    return _render_trader(request, trader, account_form=form)


@login_required
@GET_POST
def trader_account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = access_by_id(model=TraderAccount, user=_user(request), pk=pk)
    form = TraderAccountForm.for_account(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        control.trader_account_update(
            account=account,
            multiplier=data["multiplier"],
            max_contracts=data["max_contracts"],
            enabled=data["enabled"],
        )
        messages.success(request, f"Saved {account.subaccount.name}.")
        _warn(request, form)
        return redirect("trading:trader_detail", pk=account.trader_id)
    return render(
        request,
        "trading/trader_account_form.html",
        {"form": form, "account": account},
        status=_status(form),
    )


@login_required
@require_POST
def trader_account_remove(request: HttpRequest, pk: int) -> HttpResponse:
    account = access_by_id(model=TraderAccount, user=_user(request), pk=pk)
    trader_id, name = account.trader_id, account.subaccount.name
    control.trader_account_remove(account=account)
    messages.success(request, f"Removed {name} from this trader. Its positions were not touched.")
    return redirect("trading:trader_detail", pk=trader_id)
