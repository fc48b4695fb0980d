"""The signal log: the list, one signal, and the part of a signal's page that updates itself.

A signal that is not final yet (``Signal.FINAL_STATUSES``: received, executing, in doubt) is
polled by its page (``static/js/poll.js`` reading ``signal_live``) until it is final, so a
test alert's outcome appears without a reload.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.tenancy import tenant_queryset
from trading.engine import Decision
from trading.fanout import STAGE_WORDS
from trading.forms import SignalFilterForm
from trading.models import Order, Signal, SignalOutcome, Strategy
from trading.order_refresh import orders_refresh_from_broker


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def signals_visible(*, user: User) -> QuerySet[Signal]:
    """Signals of the user's strategies, and signals that reached the user's trader accounts."""
    own_strategy = Q(strategy__user=user) & (
        Q(for_trader__isnull=True) | Q(for_trader__user=user)
    )  # a subscriber's cutoff signal is theirs, not the strategy vendor's
    return Signal.objects.filter(
        own_strategy | Q(for_trader__user=user) | Q(outcomes__trader_account__trader__user=user)
    ).distinct()


def own_outcomes(user: User) -> QuerySet[SignalOutcome]:
    return tenant_queryset(model=SignalOutcome, user=user).select_related(
        "trader_account__trader", "subaccount"
    )


@login_required
@require_GET
def signal_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    strategies = (
        Strategy.objects.filter(Q(user=user) | Q(traders__user=user))
        .distinct()
        .order_by("name", "id")
    )
    form = SignalFilterForm(
        request.GET or None, strategies=strategies, decisions=[d.value for d in Decision]
    )
    signals = signals_visible(user=user).select_related("strategy")
    if form.is_bound and not form.is_valid():
        return render(
            request, "trading/signal_list.html", {"form": form, "signals": []}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    if data.get("strategy") is not None:
        signals = signals.filter(strategy=data["strategy"])
    if data.get("status"):
        signals = signals.filter(status=data["status"])
    if data.get("decision"):
        signals = signals.filter(
            outcomes__decision=data["decision"], outcomes__trader_account__trader__user=user
        )
    signals = signals.prefetch_related(
        Prefetch("outcomes", queryset=own_outcomes(user), to_attr="own_outcomes")
    ).order_by("-received_at", "-id")[:200]
    return render(request, "trading/signal_list.html", {"form": form, "signals": signals})


def _signal_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = _user(request)
    signal = signals_visible(user=user).select_related("strategy").filter(pk=pk).first()
    if signal is None:
        raise Http404("No signal with that id.")
    outcomes = (
        own_outcomes(user)
        .filter(signal=signal)
        .select_related("subaccount__connection")
        .prefetch_related(Prefetch("orders", queryset=Order.objects.order_by("id")))
    )
    stages = sorted((ms, STAGE_WORDS.get(stage, stage)) for stage, ms in signal.timings.items())
    return {
        "signal": signal,
        "stages": [(words, ms) for ms, words in stages],
        "outcomes": outcomes,
        "final": signal.status in Signal.FINAL_STATUSES,
        "own_strategy": signal.strategy.user_id == user.pk,
    }


@login_required
@require_GET
def signal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    context = _signal_context(request, pk)  # its outcomes and orders are read at render
    signal = context["signal"]
    # Rows of a login whose user stream is live are current already; the others are read from
    # the broker on opening (not on each poll of the changing part), before they are rendered.
    refresh = orders_refresh_from_broker(signal=signal, user=user)
    context["refresh"] = refresh
    context["refresh_read_at"] = refresh.read_at_text(user.time_zone)
    context["parsed"] = json.dumps(signal.parsed, indent=2, sort_keys=True) if signal.parsed else ""
    return render(request, "trading/signal_detail.html", context)


@login_required
@require_GET
def signal_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The changing part of a signal's page (status, timings, outcomes, orders), polled by the
    page until ``data-final`` says the signal is final."""
    response = render(request, "trading/_signal_live.html", _signal_context(request, pk))
    response["Cache-Control"] = "no-store"
    return response
