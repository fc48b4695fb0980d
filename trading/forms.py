"""Forms of the trading UI. Every setting field has the model's name (D21).

Null and 0 stay different (D06): a number left empty is ``None`` (the default on a strategy,
"inherit" on a trader) and ``0`` is 0; every choice and yes/no setting has an explicit empty
option for ``None``; take-profits and time windows say "default", "none" or the rows. Saving
an untouched form writes back exactly the values it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Subaccount, User
from trading.form_checks import adds_blocked_by_cap, adds_never_happen, settings_problems
from trading.form_fields import (
    KNOWN_ROOTS,
    QTY_UNITS,
    RootsField,
    RowsField,
    SymbolField,
    TakeProfitsField,
    TimeWindowsField,
    bounded,
    bounds_words,
    rows_display,
    symbol_root,
)
from trading.models import (
    DISTANCE_UNIT_CHOICES,
    SWITCHABLE_OFF,
    Signal,
    Strategy,
    Trader,
    TraderAccount,
)
from trading.setting_words import (
    BOOLEANS,
    CHOICES,
    COUNTS,
    DEFAULT_WORDS,
    HELP,
    LABELS,
    SETTING_NAMES,
    setting_words,
)

# Re-exported: the forms' names for the settings' words (views and tests import them here).
__all__ = [
    "BOOLEANS",
    "CHOICES",
    "COUNTS",
    "DEFAULT_WORDS",
    "HELP",
    "LABELS",
    "SETTING_NAMES",
    "SignalFilterForm",
    "StrategyForm",
    "TraderAccountForm",
    "TraderForm",
    "setting_words",
]


# --- the settings fields -----------------------------------------------------------------------


def _empty_label(name: str, inherited: str | None) -> str:
    if inherited is None:
        return f"Default ({DEFAULT_WORDS[name]})"
    return f"Inherit ({inherited})"


def settings_form_fields(*, inherited: Mapping[str, str] | None = None) -> dict[str, forms.Field]:
    """One form field per setting, named as the model. ``inherited`` (trader forms) gives the
    words for what an empty field inherits; without it, empty means the strategy default."""
    made: dict[str, forms.Field] = {}
    for name in SETTING_NAMES:
        words = None if inherited is None else inherited.get(name, DEFAULT_WORDS[name])
        empty = _empty_label(name, words)
        placeholder = empty
        formfield: forms.Field
        if name in BOOLEANS:
            formfield = forms.TypedChoiceField(
                choices=[("", empty), ("True", "Yes"), ("False", "No")],
                coerce=lambda v: v == "True",
                empty_value=None,
                required=False,
            )
        elif name in CHOICES:
            formfield = forms.TypedChoiceField(
                choices=[("", empty), *CHOICES[name]], empty_value=None, required=False
            )
        elif name in COUNTS or name == "break_even_offset_ticks":
            formfield = bounded(name, forms.IntegerField(required=False))
        elif name == "stop_distance":
            formfield = bounded(
                name, forms.DecimalField(required=False, max_digits=14, decimal_places=6)
            )
        elif name == "max_daily_loss":
            formfield = bounded(
                name, forms.DecimalField(required=False, max_digits=14, decimal_places=2)
            )
        elif name == "symbol_override":
            formfield = SymbolField(required=False, max_length=32, empty_value=None)
        elif name == "take_profits":
            formfield = TakeProfitsField()
        elif name == "time_windows":
            formfield = TimeWindowsField()
        else:  # a new setting must get a field here (D21): fail loudly
            raise KeyError(f"no form field for setting {name!r}")
        formfield.label = LABELS[name]
        if name in HELP:  # before the bounds, when there are any
            formfield.help_text = f"{HELP[name]} {formfield.help_text}".strip()
        if not isinstance(formfield, (forms.ChoiceField, RowsField)):
            formfield.widget.attrs["placeholder"] = placeholder
        made[name] = formfield
    return made


class _SettingsForm(forms.Form):
    """Base: adds the settings fields; ``initial`` from a model instance round-trips."""

    head_fields: tuple[str, ...] = ()
    distance_units = DISTANCE_UNIT_CHOICES
    qty_units = QTY_UNITS

    def __init__(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        inherited: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.model_field_names()}
            if isinstance(instance, Trader):
                initial["strategy"] = instance.strategy_id
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(data, **kwargs)
        self.instance = instance
        self.fields.update(settings_form_fields(inherited=inherited))

    @classmethod
    def model_field_names(cls) -> tuple[str, ...]:
        return (*cls.head_fields, *SETTING_NAMES)

    # --- combinations (trading/form_checks.py) ----------------------------------------------

    def _values(self) -> dict[str, Any]:
        """What the form holds now: cleaned input when bound, else the initial values."""
        if self.is_bound and hasattr(self, "cleaned_data"):
            return dict(self.cleaned_data)
        return {name: self.initial.get(name) for name in self.model_field_names()}

    def inherited_value(self, name: str, values: Mapping[str, Any]) -> Any:
        """What an empty setting takes (a trader's strategy; a strategy has the defaults)."""
        return None

    def effective(self, name: str, values: Mapping[str, Any]) -> Any:
        own = values.get(name)
        return own if own is not None else self.inherited_value(name, values)

    def sizes_vary(self, values: Mapping[str, Any]) -> bool:
        """Whether the alert's quantity may set the size."""
        return self.effective("use_alert_quantity", values) is True

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        problems = settings_problems(
            own=cleaned,
            effective=lambda name: self.effective(name, cleaned),
            labels=LABELS,
            sizes_vary=self.sizes_vary(cleaned),
        )
        for problem in problems:
            for name in problem.fields:
                if name not in self.errors or problem.message not in self.errors[name]:
                    self.add_error(name, problem.message)
        return cleaned

    def accounts_for_warnings(self) -> list[tuple[TraderAccount, Any]]:
        """(account, its trader's value of a setting getter) the add warning judges."""
        return []

    def warnings(self) -> list[str]:
        """Legal combinations that block something: shown above the form, never an error."""
        values = self._values()
        found = [
            adds_never_happen(
                own=values, effective=lambda name: self.effective(name, values), labels=LABELS
            )
        ]
        for account, effective in self.accounts_for_warnings():
            if effective("on_same_direction") != "add":
                continue
            entry = effective("entry_size")
            found.append(
                adds_blocked_by_cap(
                    entry=1 if entry is None else entry,
                    multiplier=account.multiplier,
                    max_contracts=account.max_contracts,
                    account=account.subaccount.name,
                )
            )
        return [text for text in found if text != ""]

    def model_fields(self) -> dict[str, Any]:
        """Cleaned values keyed by model field name (for the services)."""
        return {name: self.cleaned_data[name] for name in self.model_field_names()}

    def rows(self, name: str) -> dict[str, Any]:
        bound = self[name]
        field = self.fields[name]
        assert isinstance(field, RowsField)
        value = bound.data if self.is_bound else bound.initial
        return rows_display(name=name, value=value, columns=field.columns, rows=field.max_rows)

    def take_profit_rows(self) -> dict[str, Any]:
        return self.rows("take_profits")

    def time_window_rows(self) -> dict[str, Any]:
        return self.rows("time_windows")

    def setting_groups(self) -> list[tuple[str, list[Any]]]:
        groups = (
            ("Sizing", ("entry_size", "add_size", "use_alert_quantity")),
            (
                "Stop, break-even, trailing",
                (
                    "stop_distance",
                    "stop_unit",
                    "break_even_trigger_ticks",
                    "break_even_offset_ticks",
                    "trailing_trigger_ticks",
                    "trailing_step_ticks",
                ),
            ),
            (
                "Behaviour",
                ("on_same_direction", "on_opposite_direction", "invert_signals", "symbol_override"),
            ),
            (
                "Filters (entries only)",
                (
                    "direction_filter",
                    "flatten_after_cutoff",
                    "cooldown_seconds",
                    "max_signals_per_day",
                    "max_daily_loss",
                ),
            ),
        )
        return [(title, [self[n] for n in names]) for title, names in groups]


class StrategyChoiceField(forms.ModelChoiceField):
    owner_id: int | None = None

    def label_from_instance(self, obj: Any) -> str:
        if obj.user_id == self.owner_id:
            return str(obj.name)
        return f"{obj.name} (public, by another user)"


class SubaccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.connection.label})"


class StrategyForm(_SettingsForm):
    head_fields = (
        "name",
        "description",
        "visibility",
        "enabled",
        "alert_may_set_quantity",
        "alert_may_set_take_profit",
        "alert_may_set_stop",
        "alert_quantity_max",
        "symbol_allow_list",
    )

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=Strategy.Visibility.choices, initial="private")
    enabled = forms.BooleanField(required=False, initial=True, label="Strategy on")
    alert_may_set_quantity = forms.BooleanField(
        required=False, label="The alert's quantity may set the size"
    )
    alert_may_set_take_profit = forms.BooleanField(
        required=False, label="The alert's take-profit price may set the take-profit"
    )
    alert_may_set_stop = forms.BooleanField(
        required=False, label="The alert's stop price may set the stop"
    )
    alert_quantity_max = forms.IntegerField(
        required=False,
        label="Most contracts an alert may ask for",
        widget=forms.NumberInput(attrs={"placeholder": "required when the alert sets the size"}),
    )
    symbol_allow_list = RootsField(
        required=False,
        label="Trade only these contract roots",
        widget=forms.TextInput(attrs={"placeholder": "any known root"}),
        help_text="Comma-separated, e.g. NQ, MNQ. An alert for another root is rejected with "
        f"the reason and trades nothing. Empty: any root Bracketeer knows ({KNOWN_ROOTS}).",
    )

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        field = bounded("alert_quantity_max", self.fields["alert_quantity_max"])
        field.help_text = (
            "Before the multiplier. An alert asking for more counts as this many; needed when "
            "the alert's quantity may set the size. " + bounds_words("alert_quantity_max")
        )

    def sizes_vary(self, values: Mapping[str, Any]) -> bool:
        return values.get("alert_may_set_quantity") is True or super().sizes_vary(values)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.sizes_vary(cleaned) and cleaned.get("alert_quantity_max") is None:
            if "alert_quantity_max" not in self.errors:
                who = (
                    "“The alert's quantity may set the size”"
                    if cleaned.get("alert_may_set_quantity")
                    else f"“{LABELS['use_alert_quantity']}”"
                )
                self.add_error(
                    "alert_quantity_max",
                    f"“Most contracts an alert may ask for” is required when {who} is on: "
                    "say the most an alert may trade.",
                )
        override, roots = cleaned.get("symbol_override"), cleaned.get("symbol_allow_list")
        if override and roots and symbol_root(override) not in roots:
            self.add_error(
                "symbol_override",
                f"“{LABELS['symbol_override']}” {override} is {symbol_root(override)}, which is not in "
                f"“Trade only these contract roots” ({', '.join(roots)}).",
            )
        return cleaned

    def accounts_for_warnings(self) -> list[tuple[TraderAccount, Any]]:
        if self.instance is None:
            return []
        values = self._values()
        accounts = TraderAccount.objects.filter(
            trader__strategy=self.instance, trader__user=self.user, enabled=True
        ).select_related("trader", "subaccount")

        def getter(trader: Trader) -> Any:
            def effective(name: str) -> Any:
                own = getattr(trader, name)
                return own if own is not None else values.get(name)

            return effective

        return [(account, getter(account.trader)) for account in accounts]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = Strategy.objects.filter(user=self.user, name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("You already have a strategy with this name.")
        return name


class TraderForm(_SettingsForm):
    head_fields = ("name", "enabled", "switched_off", "restore_missing_exits")

    name = forms.CharField(max_length=100)
    strategy = StrategyChoiceField(queryset=Strategy.objects.none(), empty_label=None)
    enabled = forms.BooleanField(required=False, initial=True, label="Trader on")
    restore_missing_exits = forms.BooleanField(
        required=False,
        initial=False,
        label="Restore a stop cancelled at the broker",
        help_text="When a stop we placed is cancelled at the broker (by hand) while its position "
        "is open, place it again at the same price. Off: the position is flagged on the "
        "dashboard and in the signal log, and nothing is placed.",
    )
    switched_off = forms.MultipleChoiceField(
        choices=[(name, label) for name, (label, _) in SWITCHABLE_OFF.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Switched off for this trader",
        help_text="Overrides the strategy: e.g. the strategy has a stop, this trader trades "
        "without one. Leave the setting's own fields empty.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in cleaned.get("switched_off") or ():
            label, fields = SWITCHABLE_OFF[name]
            if any(cleaned.get(f) is not None for f in fields):
                self.add_error(
                    "switched_off",
                    f"{label} is switched off and also given a value: clear the value, "
                    "or untick it here.",
                )
        strategy = cleaned.get("strategy")
        if strategy is None:
            return cleaned
        if cleaned.get("use_alert_quantity") is True and strategy.alert_quantity_max is None:
            self.add_error(
                "use_alert_quantity",
                f"“{LABELS['use_alert_quantity']}” needs the strategy “{strategy.name}” to say "
                "the most contracts an alert may ask for, and it does not: set it on the "
                "strategy (or ask its owner), or leave this off.",
            )
        override, roots = cleaned.get("symbol_override"), strategy.symbol_allow_list
        if override and roots and symbol_root(override) not in roots:
            self.add_error(
                "symbol_override",
                f"“{LABELS['symbol_override']}” {override} is {symbol_root(override)}; the strategy "
                f"“{strategy.name}” trades only {', '.join(roots)}.",
            )
        return cleaned

    def _strategy(self, values: Mapping[str, Any]) -> Strategy | None:
        chosen = values.get("strategy")
        if isinstance(chosen, Strategy):
            return chosen
        return self.instance.strategy if self.instance is not None else None

    def inherited_value(self, name: str, values: Mapping[str, Any]) -> Any:
        for switch in values.get("switched_off") or ():
            if name in SWITCHABLE_OFF[switch][1]:
                return None
        strategy = self._strategy(values)
        return None if strategy is None else getattr(strategy, name)

    def sizes_vary(self, values: Mapping[str, Any]) -> bool:
        strategy = self._strategy(values)
        allowed = strategy is not None and strategy.alert_may_set_quantity
        return allowed or super().sizes_vary(values)

    def accounts_for_warnings(self) -> list[tuple[TraderAccount, Any]]:
        if self.instance is None:
            return []
        values = self._values()
        accounts = self.instance.accounts.filter(enabled=True).select_related("subaccount")
        return [(account, lambda name: self.effective(name, values)) for account in accounts]

    def __init__(self, data: Any = None, *, user: User, strategies: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        inherited = None
        if instance is not None:
            strategy = instance.strategy
            inherited = {n: setting_words(n, getattr(strategy, n)) for n in SETTING_NAMES}
        if inherited is None:  # a new trader: the strategy is chosen in this very form
            inherited = dict.fromkeys(SETTING_NAMES, "the strategy's value")
        super().__init__(data, inherited=inherited, **kwargs)
        self.user = user
        field = self.fields["strategy"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = strategies
        if isinstance(field, StrategyChoiceField):
            field.owner_id = user.pk

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = Trader.objects.filter(user=self.user, name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("You already have a trader with this name.")
        return name


class TraderAccountForm(forms.Form):
    """Add the trader to one of the user's trading accounts (a foreign id is not a choice)."""

    subaccount = SubaccountChoiceField(
        queryset=Subaccount.objects.none(), label="Trading account", empty_label=None
    )
    multiplier = forms.DecimalField(
        min_value=0, max_value=1000, max_digits=8, decimal_places=3, initial=Decimal(1)
    )
    max_contracts = forms.IntegerField(
        required=False,
        label="Max contracts",
        widget=forms.NumberInput(attrs={"placeholder": "no cap"}),
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Account on")

    def __init__(
        self,
        data: Any = None,
        *,
        subaccounts: Any = None,
        account: TraderAccount | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.account = account
        field = self.fields["subaccount"]
        assert isinstance(field, forms.ModelChoiceField)
        if subaccounts is None:
            del self.fields["subaccount"]
        else:
            field.queryset = subaccounts
        bounded("max_contracts", self.fields["max_contracts"])
        self.fields["max_contracts"].help_text = (
            "The largest position on this account. Empty = no cap of yours (the platform's "
            "safety ceiling per order still applies). 0 blocks every entry. "
            + bounds_words("max_contracts")
        )
        multiplier = self.fields["multiplier"]
        multiplier.help_text = "Sizes and contract take-profits are multiplied by it. 0 to 1,000."
        multiplier.error_messages["max_value"] = "At most 1,000."
        multiplier.error_messages["min_value"] = "At least 0."

    @classmethod
    def for_account(cls, data: Any = None, *, account: TraderAccount) -> TraderAccountForm:
        return cls(
            data,
            account=account,
            initial={
                "multiplier": account.multiplier,
                "max_contracts": account.max_contracts,
                "enabled": account.enabled,
            },
        )

    def warnings(self) -> list[str]:
        """Adds blocked by this account's cap, judged with its trader's settings."""
        if self.account is None:
            return []
        values = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        trader = self.account.trader

        def effective(name: str) -> Any:
            own = getattr(trader, name)
            return own if own is not None else getattr(trader.strategy, name)

        if effective("on_same_direction") != "add":
            return []
        entry = effective("entry_size")
        multiplier = values.get("multiplier", self.account.multiplier)
        text = adds_blocked_by_cap(
            entry=1 if entry is None else entry,
            multiplier=self.account.multiplier if multiplier is None else multiplier,
            max_contracts=values.get("max_contracts", self.account.max_contracts),
            account=self.account.subaccount.name,
        )
        return [text] if text != "" else []


class SignalFilterForm(forms.Form):
    strategy = forms.ModelChoiceField(
        queryset=Strategy.objects.none(), required=False, empty_label="All strategies"
    )
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Signal.Status.choices], required=False
    )
    decision = forms.ChoiceField(choices=[("", "All decisions")], required=False)

    def __init__(self, data: Any = None, *, strategies: Any, decisions: list[str]) -> None:
        super().__init__(data)
        field = self.fields["strategy"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = strategies
        decision = self.fields["decision"]
        assert isinstance(decision, forms.ChoiceField)
        decision.choices = [("", "All decisions"), *[(d, d.replace("_", " ")) for d in decisions]]
