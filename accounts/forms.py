from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin

from accounts.models import User


class SignupForm(SetPasswordMixin, forms.Form):
    """E-mail and password (twice, validated). Whether the address already has an account is
    not the form's business: the answer must not say (``accounts.services.signup_request``)."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.validate_passwords()
        # The password validators compare it with the address it is for (similarity).
        self.validate_password_for_user(User(email=cleaned.get("email", "")))
        return cleaned


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password do not match an account. "
        "Passwords are case-sensitive.",
    }
