"""The copy-trading pages: groups, their followers, the copy log.

Thin views: parse, call one service (``copytrade.services``, ``copytrade.resync``), render.
Every object comes through ``accounts.tenancy`` (another tenant's id is a 404 on read and on
write); a form with bad input is re-rendered with the reason and status 400. The group page's
followers and the copy log re-read themselves (``static/js/poll.js``) when the live channel
says one of the group's accounts changed (``static/js/live.js``: ``data-live-accounts``), and
keep re-reading while a leader fill is being copied (``data-final="false"``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.tenancy import access_by_id
from billing.limits import PlanLimitError
from copytrade import manual, resync, selectors, services
from copytrade.forms import CopyGroupForm, FollowerForm, LeaderTradeForm
from copytrade.models import CopyGroup, Follower
from trading.broker_view import SafetyBlock
from trading.brokers.base import BrokerError
from trading.in_doubt import InDoubt

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
LOG_PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


# --- groups -----------------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    groups = selectors.copy_groups_of(user=_user(request))
    return render(request, "copytrade/group_list.html", {"groups": groups})


@login_required
@GET_POST
def group_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = CopyGroupForm(
        request.POST or None, subaccounts=selectors.copy_accounts_choosable(user=user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            group = services.copy_group_create(
                user=user, name=form.cleaned_data["name"], leader=form.cleaned_data["leader"]
            )
        except (PlanLimitError, services.CopySetupError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Created “{group.name}”. Now add its followers.")
            return redirect("copytrade:group_detail", pk=group.pk)
    return render(
        request, "copytrade/group_form.html", {"form": form}, status=400 if form.errors else 200
    )


def _group_context(group: CopyGroup) -> dict[str, Any]:
    followers = list(selectors.group_followers(group=group))
    return {
        "group": group,
        "followers": followers,
        "account_ids": " ".join(
            str(pk) for pk in selectors.group_account_ids(group=group, followers=followers)
        ),
        "final": not selectors.group_busy(group=group),
    }


def _render_group(
    request: HttpRequest, group: CopyGroup, *, follower_form: FollowerForm | None = None
) -> HttpResponse:
    candidates = selectors.follower_candidates(group=group)
    context = {
        **_group_context(group),
        "follower_form": follower_form or FollowerForm(subaccounts=candidates),
        "has_candidates": follower_form is not None or candidates.exists(),
        "trade_form": LeaderTradeForm(initial={"press": uuid.uuid4().hex}),
    }
    status = 400 if follower_form is not None and follower_form.errors else 200
    return render(request, "copytrade/group_detail.html", context, status=status)


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_group(request, access_by_id(model=CopyGroup, user=_user(request), pk=pk))


@login_required
@require_GET
def group_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The changing part of a group's page: its state and its followers' sync states."""
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    return _no_store(render(request, "copytrade/_group_live.html", _group_context(group)))


# Where a toggle leads back to, by name (never a URL from the request: no open redirect).
BACK = {"list": "copytrade:group_list", "detail": "copytrade:group_detail"}


@login_required
@require_POST
def group_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        return HttpResponse(
            'Say "enabled=on" or "enabled=off".', status=400, content_type="text/plain"
        )
    try:
        services.copy_group_enabled_set(group=group, enabled=wanted == "on")
    except PlanLimitError as exc:
        messages.error(request, f"“{group.name}” stays off: {exc}")
    else:
        messages.success(
            request,
            f"Copying is on for “{group.name}”: the leader's next fills are copied."
            if group.enabled
            else f"Copying is off for “{group.name}”. Followers' positions were not touched.",
        )
    if request.POST.get("back") == "list":
        return redirect(BACK["list"])
    return redirect(BACK["detail"], pk=group.pk)


@login_required
@require_POST
def leader_trade(request: HttpRequest, pk: int) -> HttpResponse:
    """The copy panel: buy, sell or close on the leader (the followers copy it)."""
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    form = LeaderTradeForm(request.POST)
    action = request.POST.get("action", "")
    if action not in manual.ACTIONS or not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        messages.error(request, f"Nothing was sent: {errors or 'say buy, sell or close'}.")
        return redirect("copytrade:group_detail", pk=group.pk)
    data = form.cleaned_data
    try:
        result = manual.leader_trade(
            group=group,
            action=action,
            symbol=data["symbol"],
            qty=data["qty"],
            tp_ticks=data["tp_ticks"],
            stop_ticks=data["stop_ticks"],
            press=data["press"],
        )
    except TimeoutError:
        messages.error(
            request,
            f"{group.leader.name} is busy (a signal or a copy is working on it): nothing was "
            "sent; try again in a moment.",
        )
    except (manual.ManualTradeError, BrokerError, SafetyBlock, InDoubt) as exc:
        messages.error(request, f"The leader's trade failed: {exc}")
    else:
        messages.success(
            request,
            f"{result.words}. The followers copy it: see their states below and the copy log.",
        )
    return redirect("copytrade:group_detail", pk=group.pk)


# --- followers --------------------------------------------------------------------------------


@login_required
@require_POST
def follower_add(request: HttpRequest, pk: int) -> HttpResponse:
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    form = FollowerForm(request.POST, subaccounts=selectors.follower_candidates(group=group))
    if form.is_valid():
        try:
            saved = services.follower_add(
                group=group, subaccount=form.cleaned_data["subaccount"], **form.settings()
            )
        except (PlanLimitError, services.CopySetupError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{saved.follower.subaccount.name} now follows.")
            for warning in saved.warnings:
                messages.warning(request, warning)
            return redirect("copytrade:group_detail", pk=group.pk)
    return _render_group(request, group, follower_form=form)


@login_required
@GET_POST
def follower_edit(request: HttpRequest, pk: int) -> HttpResponse:
    follower = access_by_id(model=Follower, user=_user(request), pk=pk)
    form = FollowerForm.for_follower(request.POST or None, follower=follower)
    if request.method == "POST" and form.is_valid():
        try:
            services.follower_update(follower=follower, **form.settings())
        except services.CopySetupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {follower.subaccount.name}.")
            return redirect("copytrade:group_detail", pk=follower.group_id)
    return render(
        request,
        "copytrade/follower_form.html",
        {"form": form, "follower": follower},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def follower_remove(request: HttpRequest, pk: int) -> HttpResponse:
    follower = access_by_id(model=Follower, user=_user(request), pk=pk)
    group_id, name = follower.group_id, follower.subaccount.name
    services.follower_remove(follower=follower)
    messages.success(
        request, f"{name} no longer follows. Its positions and orders were not touched."
    )
    return redirect("copytrade:group_detail", pk=group_id)


@login_required
@require_POST
def follower_resync(request: HttpRequest, pk: int) -> HttpResponse:
    follower = access_by_id(model=Follower, user=_user(request), pk=pk)
    name = follower.subaccount.name
    try:
        resynced = resync.follower_resync(follower=follower)
    except services.CopySetupError as exc:
        messages.error(request, f"Resync of {name}: {exc}")
    else:
        words = "; ".join(line.words() for line in resynced.lines)
        if not resynced.lines:
            messages.success(
                request,
                f"{name}: the leader holds nothing and nothing was copied today, so there is "
                "nothing to resync.",
            )
        elif resynced.ok:
            messages.success(request, f"Resynced {name}. {words}.")
        else:
            messages.error(
                request, f"{name} is not at its target: {words}. Check the account, then retry."
            )
    return redirect("copytrade:group_detail", pk=follower.group_id)


@login_required
@require_POST
def follower_rearm(request: HttpRequest, pk: int) -> HttpResponse:
    follower = access_by_id(model=Follower, user=_user(request), pk=pk)
    services.follower_rearm(follower=follower)
    messages.success(
        request,
        f"{follower.subaccount.name} is armed again: the leader's next fills are copied to it. "
        "Use Resync to bring it to the leader's position now.",
    )
    return redirect("copytrade:group_detail", pk=follower.group_id)


# --- the copy log -----------------------------------------------------------------------------


def _log_context(request: HttpRequest, group: CopyGroup) -> dict[str, Any]:
    events = Paginator(selectors.copy_log(group=group), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    followers = list(selectors.group_followers(group=group))
    return {
        "group": group,
        "events": events,
        "account_ids": " ".join(
            str(pk) for pk in selectors.group_account_ids(group=group, followers=followers)
        ),
        "final": not selectors.group_busy(group=group),
    }


@login_required
@require_GET
def copy_log(request: HttpRequest, pk: int) -> HttpResponse:
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    return render(request, "copytrade/copy_log.html", _log_context(request, group))


@login_required
@require_GET
def copy_log_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The copy log's page of events, re-read by the page while copies happen."""
    group = access_by_id(model=CopyGroup, user=_user(request), pk=pk)
    return _no_store(render(request, "copytrade/_copy_log_live.html", _log_context(request, group)))
