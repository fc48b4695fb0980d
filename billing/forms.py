from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm

from billing.emails import password_reset_request


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class BillingPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through our recorded, retried deliveries (D24)."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        password_reset_request(email=self.cleaned_data["email"])
