"""Forms of the user's settings page: time zone and e-mail (the password uses Django's own
``PasswordChangeForm``)."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms

from accounts.models import User


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name the system knows, sorted (``Etc/`` and legacy aliases last)."""
    names = sorted(available_timezones())
    regional = [n for n in names if "/" in n and not n.startswith(("Etc/", "SystemV/"))]
    other = [n for n in names if n not in set(regional)]
    return [(n, n.replace("_", " ")) for n in regional + other]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Every time on your pages is shown in this zone, and your strategies' and "
        "traders' time windows are read in it.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone name: pick one from the list "
            "(for example America/New_York).",
            "required": "Pick a time zone.",
        },
    )


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label="New e-mail address",
        error_messages={
            "invalid": "That is not an e-mail address (it needs a name, an @ and a domain).",
            "required": "Enter the new e-mail address.",
        },
    )
    current_password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your current password to change the e-mail."},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})

    def clean_current_password(self) -> str:
        password = str(self.cleaned_data["current_password"])
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if email == self.user.email.lower():
            raise forms.ValidationError("That is already your e-mail address.")
        if User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("Another account already uses this e-mail address.")
        return email
