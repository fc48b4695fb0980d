"""The "try an alert" form of a strategy page: the action and the symbol the sample carries."""

from __future__ import annotations

from typing import Any

from django import forms

from trading.contracts import parse_symbol
from trading.control import TEST_ALERT_ACTIONS


class TestAlertForm(forms.Form):
    action = forms.ChoiceField(
        label="Action",
        choices=[(a, a) for a in TEST_ALERT_ACTIONS],
        error_messages={
            "invalid_choice": f"Unknown test alert action “%(value)s”; one of "
            f"{', '.join(TEST_ALERT_ACTIONS)}."
        },
    )
    symbol = forms.CharField(
        label="Symbol",
        max_length=40,
        required=False,  # empty: the strategy's symbol override, else MNQ1!
    )

    def __init__(self, *args: Any, default_symbol: str, **kwargs: Any) -> None:
        kwargs["initial"] = {"action": "buy", "symbol": default_symbol}
        super().__init__(*args, **kwargs)
        self.fields["symbol"].widget.attrs.update({"size": 10, "autocomplete": "off"})

    def clean_symbol(self) -> str:
        text = str(self.cleaned_data["symbol"]).strip()
        if text == "":
            return ""
        try:
            parse_symbol(text)
        except ValueError as exc:  # InvalidSymbolError, UnknownContractError: said in words
            raise forms.ValidationError(str(exc)) from None
        return text
