"""Forms of the performance pages: the trade and execution filters (GET), the calendar month,
a fee rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.models import BrokerConnection, Subaccount, User
from accounts.tenancy import tenant_queryset
from analytics.selectors import TradeScope, zone_of
from analytics.selectors_execution import SignalScope
from copytrade.models import CopyGroup
from trading.models import Strategy, Trader


def _choices(rows: Any, everything: str) -> list[tuple[Any, str]]:
    return [("", everything), *((row.pk, str(row)) for row in rows)]


class DaysForm(forms.Form):
    """A first and a last local day, both optional, in order. Ids of the subclasses are plain
    integers: the selectors apply the user's tenancy, so a foreign id shows nothing rather
    than an error."""

    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The first day is after the last day: swap them.")
        return data


class TradeFilterForm(DaysForm):
    """The trades page's filters."""

    strategy = forms.IntegerField(required=False, widget=forms.Select)
    trader = forms.IntegerField(required=False, widget=forms.Select)
    account = forms.IntegerField(required=False, widget=forms.Select)
    copy_group = forms.IntegerField(required=False, label="Copy group", widget=forms.Select)
    symbol = forms.CharField(
        required=False, max_length=40, widget=forms.TextInput({"placeholder": "Symbol"})
    )
    status = forms.ChoiceField(
        required=False,
        label="Open or closed",
        choices=[("", "Both"), ("closed", "Closed"), ("open", "Open")],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        lists = {
            "strategy": (tenant_queryset(model=Strategy, user=user), "Every strategy"),
            "trader": (tenant_queryset(model=Trader, user=user), "Every trader"),
            "account": (
                tenant_queryset(model=Subaccount, user=user).order_by("name", "id"),
                "Every account",
            ),
            "copy_group": (tenant_queryset(model=CopyGroup, user=user), "Every copy group"),
        }
        for name, (rows, everything) in lists.items():
            self.fields[name].widget.choices = _choices(rows, everything)

    def scope(self) -> TradeScope:
        """The scope of the valid filters (no filter for an invalid form's fields)."""
        data = self.cleaned_data if self.is_valid() else {}
        return TradeScope(
            user=self.user,
            zone=zone_of(user=self.user),
            start=data.get("start"),
            end=data.get("end"),
            strategy_pk=data.get("strategy"),
            trader_pk=data.get("trader"),
            subaccount_pk=data.get("account"),
            copy_group_pk=data.get("copy_group"),
            symbol=data.get("symbol") or "",
            status=data.get("status") or "",
        )


class ExecutionFilterForm(DaysForm):
    """The execution page's filters: days (default: the last ``DEFAULT_DAYS`` up to today in
    the user's zone), a strategy the user owns or follows, one of the user's accounts."""

    DEFAULT_DAYS = 30

    strategy = forms.IntegerField(required=False, widget=forms.Select)
    account = forms.IntegerField(required=False, widget=forms.Select)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        strategies = (
            Strategy.objects.filter(Q(user=user) | Q(traders__user=user))
            .distinct()
            .order_by("name", "id")
        )
        accounts = tenant_queryset(model=Subaccount, user=user).order_by("name", "id")
        self.fields["strategy"].widget.choices = _choices(strategies, "Every strategy")
        self.fields["account"].widget.choices = _choices(accounts, "Every account")

    def scope(self) -> SignalScope:
        """The scope of the valid filters (the default days for an invalid form)."""
        data = self.cleaned_data if self.is_valid() else {}
        zone = zone_of(user=self.user)
        today = timezone.now().astimezone(ZoneInfo(zone)).date()
        return SignalScope(
            user=self.user,
            zone=zone,
            start=data.get("start") or today - timedelta(days=self.DEFAULT_DAYS - 1),
            end=data.get("end") or today,
            strategy_pk=data.get("strategy"),
            subaccount_pk=data.get("account"),
        )


class MonthForm(forms.Form):
    month = forms.DateField(required=False, input_formats=["%Y-%m"])


class FeeRateForm(forms.Form):
    connection = forms.ModelChoiceField(queryset=BrokerConnection.objects.none())
    root = forms.CharField(max_length=8, label="Contract root", help_text="e.g. MNQ, ES")
    per_contract = forms.DecimalField(
        max_digits=10, decimal_places=4, label="Fee per contract, per side ($)"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        connections = tenant_queryset(model=BrokerConnection, user=user)
        field = self.fields["connection"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = connections.filter(archived_at__isnull=True)
