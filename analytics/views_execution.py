"""The execution-quality page: slippage, latency and rejects per strategy and account."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Subaccount, User
from analytics.selectors_execution import (
    SignalScope,
    execution_quality,
    rejects_by_broker_reason,
)
from trading.models import Strategy

DEFAULT_DAYS = 30


class ExecutionFilterForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    strategy = forms.ModelChoiceField(
        label="Strategy",
        queryset=Strategy.objects.none(),
        required=False,
        empty_label="Every strategy",
    )
    account = forms.ModelChoiceField(
        label="Account",
        queryset=Subaccount.objects.none(),
        required=False,
        empty_label="Every account",
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        strategy = self.fields["strategy"]
        account = self.fields["account"]
        assert isinstance(strategy, forms.ModelChoiceField)
        assert isinstance(account, forms.ModelChoiceField)
        strategy.queryset = (
            Strategy.objects.filter(Q(user=user) | Q(traders__user=user))
            .distinct()
            .order_by("name", "id")
        )
        account.queryset = Subaccount.objects.for_user(user).order_by("name", "id")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("“From” is after “To”: swap the two dates.")
        return data


@login_required
def execution(request: HttpRequest) -> HttpResponse:
    """Per strategy and account: slippage against the alert's price, latency from receipt to
    the broker's acceptance and to the fill, rejects by the broker's words. Default: the last
    30 days in the user's time zone."""
    user = request.user
    assert isinstance(user, User)
    zone = user.time_zone
    today = timezone.localdate()
    form = ExecutionFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        return render(request, "analytics/execution.html", {"form": form, "rows": []}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    start = data.get("start") or today - timedelta(days=DEFAULT_DAYS - 1)
    end = data.get("end") or today
    strategy, account = data.get("strategy"), data.get("account")
    scope = SignalScope(
        user=user,
        zone=zone,
        start=start,
        end=end,
        strategy_pk=strategy.pk if strategy else None,
        subaccount_pk=account.pk if account else None,
    )
    context = {
        "form": form,
        "scope": scope,
        "rows": execution_quality(scope=scope),
        "rejects": rejects_by_broker_reason(scope=scope),
    }
    return render(request, "analytics/execution.html", context)
