from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import BrokerConnection


class BrokerConnectionForm(forms.Form):
    label = forms.CharField(
        max_length=100, help_text="Your name for this login, e.g. “Apex 50K #3”."
    )
    broker = forms.ChoiceField(choices=BrokerConnection.Broker.choices, initial="simulator")
    username = forms.CharField(max_length=150, label="Broker user name")
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        label="Broker password",
        help_text="Stored encrypted; never shown again.",
    )
    cid = forms.IntegerField(
        required=False,
        label="API client id (cid)",
        help_text="Tradovate API access: your client id. Leave empty for the simulator.",
    )
    sec = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="API secret (sec)",
        help_text="Stored encrypted; never shown again.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_label(self) -> str:
        label: str = self.cleaned_data["label"].strip()
        if BrokerConnection.objects.filter(
            user=self.user, label__iexact=label, archived_at__isnull=True
        ).exists():
            raise forms.ValidationError("You already have a connection with this name.")
        return label

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        broker = data.get("broker")
        if broker in (
            BrokerConnection.Broker.TRADOVATE_DEMO,
            BrokerConnection.Broker.TRADOVATE_LIVE,
        ):
            if data.get("cid") is None or not data.get("sec"):
                raise forms.ValidationError(
                    "Tradovate API access needs your client id (cid) and secret (sec): find them "
                    "under Application Settings → API Access on Tradovate."
                )
        return data


class ConnectionDeleteForm(forms.Form):
    """Confirmation of a connection's deletion; ``unreadable_confirmed`` is offered only when
    the broker could not say what is open on its accounts."""

    unreadable_confirmed = forms.BooleanField(
        required=False,
        label="I have checked at the broker myself: nothing is open on these accounts",
    )
