"""The API keys page's form."""

from __future__ import annotations

from django import forms

from api.models import ApiKey

EXPIRY_DAYS = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="What uses it, e.g. “my dashboard script”.",
        error_messages={"required": "Give the key a name."},
    )
    scope = forms.ChoiceField(
        choices=ApiKey.Scope.choices,
        initial=ApiKey.Scope.READ,
        label="Scope",
        help_text="Read only: lists and details. Read and trade: also creates, changes, sends "
        "alerts and closes positions.",
    )
    expires = forms.ChoiceField(choices=EXPIRY_DAYS, required=False, label="Expires")
