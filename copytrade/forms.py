"""Copy-trading forms: parse what the trader typed; the rules are the services'."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from copytrade.models import Follower
from trading.forms import SubaccountChoiceField

MAPPING_LINE = re.compile(r"^\s*([A-Za-z0-9]{1,5})\s*(?:=|->|→)\s*([A-Za-z0-9]{1,5})\s*$")
RATIO_LIMIT = Decimal(100)


def mapping_parse(text: str) -> dict[str, str]:
    """``"NQ=MNQ\\nES=MES"`` -> ``{"NQ": "MNQ", "ES": "MES"}`` (``->`` and ``→`` work too;
    blank lines are skipped). Raises ``ValidationError`` naming the line it cannot read."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = MAPPING_LINE.match(line)
        if match is None:
            raise forms.ValidationError(
                f"Line {number} (“{line.strip()}”) is not a mapping: write it as NQ=MNQ, the "
                "leader's contract root, =, the follower's."
            )
        leader, follower = match[1].upper(), match[2].upper()
        if leader in mapping and mapping[leader] != follower:
            raise forms.ValidationError(f"{leader} is mapped twice (line {number}).")
        mapping[leader] = follower
    return mapping


def mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{leader}={follower}" for leader, follower in sorted(mapping.items()))


class CopyGroupForm(forms.Form):
    name = forms.CharField(max_length=100, label="Group name")
    leader = SubaccountChoiceField(
        queryset=None,
        label="Leader account",
        empty_label=None,
        help_text="Its trades, placed here or by hand at the broker, are copied to the "
        "followers you add next.",
    )

    def __init__(self, data: Any = None, *, subaccounts: Any) -> None:
        super().__init__(data)
        leader = self.fields["leader"]
        assert isinstance(leader, forms.ModelChoiceField)
        leader.queryset = subaccounts

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the group a name.")
        return name


class FollowerForm(forms.Form):
    """Adds a follower (with ``subaccounts``) or edits one (without the account field)."""

    subaccount = SubaccountChoiceField(queryset=None, label="Follower account", empty_label=None)
    ratio = forms.DecimalField(
        max_digits=10,
        decimal_places=4,
        initial=Decimal(1),
        min_value=-RATIO_LIMIT,
        max_value=RATIO_LIMIT,
        help_text="Contracts per leader contract: 2 doubles, 0.5 halves (rounded toward zero, "
        "so 1 × 0.5 copies nothing). A negative ratio trades the opposite way: at -1 the "
        "follower sells 1 when the leader buys 1, and is short while the leader is long. "
        "-100 to 100.",
    )
    fixed_qty = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        label="Fixed quantity",
        widget=forms.NumberInput(attrs={"placeholder": "use the ratio"}),
        help_text="Always this many contracts in the leader's direction, whatever its size "
        "(the ratio is then ignored). Empty = use the ratio.",
    )
    max_contracts = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        label="Max contracts",
        widget=forms.NumberInput(attrs={"placeholder": "no cap"}),
        help_text="The largest position the follower is brought to. Empty = no cap.",
    )
    symbol_map = forms.CharField(
        required=False,
        label="Contract mapping",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "NQ=MNQ"}),
        help_text="One per line: the leader's contract root = the follower's, e.g. NQ=MNQ "
        "copies the leader's NQ as MNQ (same month; the ratio applies after). Contracts not "
        "listed are copied as they are.",
    )
    copy_exits = forms.BooleanField(
        required=False,
        initial=True,
        label="Copy exits",
        help_text="Mirror the leader's working take-profit and stop orders on the follower: "
        "same price, sized to the follower's position, moved and cancelled with the leader's. "
        "Off: a leader's exit reaches the follower when it fills, as a market order.",
    )
    max_daily_loss = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        label="Daily loss limit ($)",
        help_text="When the follower's realized loss today (as the broker reports it) reaches "
        "this, it is disarmed: only closes are copied until you re-arm it. Empty = no limit.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Follower on")

    def __init__(self, data: Any = None, *, subaccounts: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field = self.fields["subaccount"]
        assert isinstance(field, forms.ModelChoiceField)
        if subaccounts is None:
            del self.fields["subaccount"]
        else:
            field.queryset = subaccounts

    @classmethod
    def for_follower(cls, data: Any = None, *, follower: Follower) -> FollowerForm:
        return cls(
            data,
            initial={
                "ratio": follower.ratio.normalize(),
                "fixed_qty": follower.fixed_qty,
                "max_contracts": follower.max_contracts,
                "symbol_map": mapping_text(follower.symbol_map or {}),
                "copy_exits": follower.copy_exits,
                "max_daily_loss": follower.max_daily_loss,
                "enabled": follower.enabled,
            },
        )

    def clean_symbol_map(self) -> dict[str, str]:
        return mapping_parse(self.cleaned_data.get("symbol_map") or "")

    def settings(self) -> dict[str, Any]:
        """The follower's settings as the services take them."""
        data = self.cleaned_data
        return {
            "ratio": data["ratio"],
            "fixed_qty": data["fixed_qty"],
            "max_contracts": data["max_contracts"],
            "symbol_map": data["symbol_map"],
            "copy_exits": data["copy_exits"],
            "max_daily_loss": data["max_daily_loss"],
            "enabled": data["enabled"],
        }


class LeaderTradeForm(forms.Form):
    """The copy panel: a trade on the leader, copied to the followers."""

    symbol = forms.CharField(
        max_length=40,
        initial="MNQ1!",
        help_text="A contract (MNQZ6) or TradingView's continuous name (MNQ1!: the front month).",
    )
    qty = forms.IntegerField(min_value=1, max_value=100, initial=1, label="Contracts")
    tp_ticks = forms.IntegerField(
        min_value=1, required=False, label="Take-profit (ticks)", help_text="Empty = none."
    )
    stop_ticks = forms.IntegerField(
        min_value=1, required=False, label="Stop (ticks)", help_text="Empty = none."
    )
    press = forms.CharField(widget=forms.HiddenInput, max_length=40)
