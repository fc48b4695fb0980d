"""Forms of the trading UI. Every setting field has the model's name (D21).

Null and 0 stay different (D06): a number left empty is ``None`` (the default on a strategy,
"inherit" on a trader) and ``0`` is 0; every choice and yes/no setting has an explicit empty
option for ``None``; take-profits and time windows say "default", "none" or the rows. Saving
an untouched form writes back exactly the values it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Subaccount, User
from trading.models import (
    SWITCHABLE_OFF,
    DirectionFilter,
    DistanceUnit,
    OppositeDirection,
    SameDirection,
    SettingsFields,
    Signal,
    Strategy,
    Trader,
    TraderAccount,
)
from trading.settings_resolution import MAX_TAKE_PROFIT_LEVELS, MAX_TIME_WINDOWS

SETTING_NAMES = SettingsFields.SETTING_NAMES
QTY_UNITS = (("contracts", "contracts"), ("percent", "% of position"))

# What a strategy's None means (ENGINE.md's defaults), in words.
DEFAULT_WORDS: dict[str, str] = {
    "entry_size": "1",
    "add_size": "1",
    "use_alert_quantity": "no",
    "take_profits": "no take-profit",
    "stop_distance": "no stop",
    "stop_unit": "no stop",
    "break_even_trigger_ticks": "off",
    "break_even_offset_ticks": "off",
    "trailing_trigger_ticks": "off",
    "trailing_step_ticks": "off",
    "on_same_direction": SameDirection.IGNORE.label,
    "on_opposite_direction": OppositeDirection.REVERSE.label,
    "invert_signals": "no",
    "direction_filter": DirectionFilter.BOTH.label,
    "time_windows": "any time",
    "flatten_after_cutoff": "no",
    "cooldown_seconds": "none",
    "max_signals_per_day": "no limit",
    "max_daily_loss": "no limit",
    "symbol_override": "the alert's ticker",
}

LABELS: dict[str, str] = {
    "entry_size": "Entry size (contracts)",
    "add_size": "Add size (contracts)",
    "use_alert_quantity": "Use the alert's quantity",
    "take_profits": "Take-profits",
    "stop_distance": "Stop distance",
    "stop_unit": "Stop unit",
    "break_even_trigger_ticks": "Break-even trigger (ticks)",
    "break_even_offset_ticks": "Break-even offset (ticks)",
    "trailing_trigger_ticks": "Trailing trigger (ticks)",
    "trailing_step_ticks": "Trailing step (ticks)",
    "on_same_direction": "Signal in the same direction",
    "on_opposite_direction": "Signal in the opposite direction",
    "invert_signals": "Invert signals",
    "direction_filter": "Direction",
    "time_windows": "Time windows",
    "flatten_after_cutoff": "Flatten after the last window",
    "cooldown_seconds": "Cooldown (seconds)",
    "max_signals_per_day": "Max signals per day",
    "max_daily_loss": "Max daily loss ($)",
    "symbol_override": "Symbol override",
}

# What a setting acts on, where its label cannot say it.
HELP: dict[str, str] = {
    "break_even_trigger_ticks": "Once the price is this many ticks in profit, the streams "
    "process (position monitor) moves the stop to entry + the offset. Empty: no break-even.",
    "trailing_trigger_ticks": "Once the price is this many ticks in profit, the stop follows "
    "it at the stop's first distance, in whole steps. Empty: no trailing.",
    "flatten_after_cutoff": "When a trading window ends, close this trader's open positions "
    "(within 30 s; a cutoff missed by more than 30 minutes is not acted on late). Needs time "
    "windows.",
    "max_daily_loss": "Blocks entries and adds once the account's realized loss today, as "
    "Tradovate reports it (every strategy on that account), reaches this amount. Exits are "
    "never blocked.",
}

CHOICES: dict[str, list[tuple[str, str]]] = {
    "stop_unit": list(DistanceUnit.choices),
    "on_same_direction": list(SameDirection.choices),
    "on_opposite_direction": list(OppositeDirection.choices),
    "direction_filter": list(DirectionFilter.choices),
}
BOOLEANS = ("use_alert_quantity", "invert_signals", "flatten_after_cutoff")
COUNTS = (
    "entry_size",
    "add_size",
    "break_even_trigger_ticks",
    "trailing_trigger_ticks",
    "trailing_step_ticks",
    "cooldown_seconds",
    "max_signals_per_day",
)


def setting_words(name: str, value: Any) -> str:
    """A stored setting in words (None -> the default's words)."""
    if value is None:
        return DEFAULT_WORDS[name]
    if name in BOOLEANS:
        return "yes" if value else "no"
    if name in CHOICES:
        return dict(CHOICES[name]).get(value, str(value))
    if name == "take_profits":
        if not value:
            return "none"
        return "; ".join(
            f"{lvl.get('distance')} {lvl.get('unit')} × {lvl.get('qty')} {lvl.get('qty_unit')}"
            for lvl in value
        )
    if name == "time_windows":
        return ", ".join(f"{a}–{b}" for a, b in value) if value else "any time"
    return str(value)


# --- rows: take-profits and time windows --------------------------------------------------------


class RowsWidget(forms.Widget):
    """Reads ``<name>-mode`` and ``<name>-<i>-<column>`` inputs (rendered by the template)."""

    def __init__(self, *, columns: tuple[str, ...], rows: int) -> None:
        super().__init__()
        self.columns = columns
        self.rows = rows

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        return {
            "mode": str(data.get(f"{name}-mode", "")),
            "rows": [
                {c: str(data.get(f"{name}-{i}-{c}", "")).strip() for c in self.columns}
                for i in range(self.rows)
            ],
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


def rows_display(*, name: str, value: Any, columns: tuple[str, ...], rows: int) -> dict[str, Any]:
    """The mode and padded rows a template renders, from a stored value or posted data."""
    if isinstance(value, dict) and "rows" in value:  # posted, re-rendered with errors
        return {"mode": value["mode"], "rows": value["rows"]}
    if value is None:
        mode, filled = "", []
    else:
        mode = "rows" if value else "none"
        if name == "time_windows":
            filled = [dict(zip(columns, pair, strict=False)) for pair in value]
        else:
            filled = [{c: str(level.get(c, "")) for c in columns} for level in value]
    padded = filled + [dict.fromkeys(columns, "") for _ in range(rows - len(filled))]
    return {"mode": mode, "rows": padded}


class _RowsField(forms.Field):
    columns: tuple[str, ...] = ()
    typed_columns: tuple[str, ...] = ()  # a row counts as filled when one of these is typed in
    max_rows = 1
    none_words = "none"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=RowsWidget(columns=self.columns, rows=self.max_rows), **kwargs)

    def clean_row(self, number: int, row: dict[str, str]) -> Any:
        raise NotImplementedError

    def clean(self, value: Any) -> list[Any] | None:
        if not isinstance(value, dict):  # the initial value itself (never posted)
            return value if value is None or isinstance(value, list) else None
        mode = value.get("mode", "")
        if mode not in ("", "rows", "none"):
            raise ValidationError(f"Unknown choice {mode!r}.")
        filled = [
            (n, row)
            for n, row in enumerate(value["rows"], start=1)
            if any(row[c] for c in self.typed_columns)
        ]
        if mode == "none":
            if filled:
                raise ValidationError(
                    f"You chose “{self.none_words}” but filled in rows: clear them, "
                    "or choose “these rows”."
                )
            return []
        if mode == "" and not filled:
            return None
        errors: list[str] = []
        cleaned = []
        for number, row in filled:
            try:
                cleaned.append(self.clean_row(number, row))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


def _decimal_text(text: str, what: str, *, minimum: Decimal = Decimal(0)) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{what}: {text!r} is not a number.") from None
    if not number.is_finite() or number < minimum:
        raise ValidationError(f"{what} must be at least {minimum}.")
    return text


class TakeProfitsField(_RowsField):
    columns = ("distance", "unit", "qty", "qty_unit")
    typed_columns = ("distance", "qty")
    max_rows = MAX_TAKE_PROFIT_LEVELS
    none_words = "no take-profit"

    def clean_row(self, number: int, row: dict[str, str]) -> dict[str, str]:
        what = f"Take-profit {number}"
        unit, qty_unit = row["unit"] or "ticks", row["qty_unit"] or "contracts"
        if unit not in DistanceUnit.values:
            raise ValidationError(f"{what}: unknown unit {unit!r}.")
        if qty_unit not in dict(QTY_UNITS):
            raise ValidationError(f"{what}: unknown quantity unit {qty_unit!r}.")
        if row["distance"] == "":
            if unit != DistanceUnit.PRICE:
                raise ValidationError(f"{what}: enter a distance.")
            distance = "0"  # the alert's own price: the distance is not used
        else:
            distance = _decimal_text(row["distance"], f"{what} distance")
        if row["qty"] == "":
            raise ValidationError(f"{what}: enter a quantity.")
        qty = _decimal_text(row["qty"], f"{what} quantity")
        if Decimal(qty) == 0:
            raise ValidationError(f"{what}: a quantity of 0 closes nothing; remove the row.")
        return {"distance": distance, "unit": unit, "qty": qty, "qty_unit": qty_unit}


class TimeWindowsField(_RowsField):
    columns = ("start", "end")
    typed_columns = ("start", "end")
    max_rows = MAX_TIME_WINDOWS
    none_words = "any time"

    def clean_row(self, number: int, row: dict[str, str]) -> list[str]:
        what = f"Time window {number}"
        try:
            start, end = time.fromisoformat(row["start"]), time.fromisoformat(row["end"])
        except ValueError:
            raise ValidationError(f"{what}: enter a start and an end as HH:MM.") from None
        if start == end:
            raise ValidationError(f"{what}: start and end are the same time.")
        return [start.strftime("%H:%M"), end.strftime("%H:%M")]


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
        elif name in COUNTS:
            formfield = forms.IntegerField(required=False, min_value=0)
        elif name == "break_even_offset_ticks":
            formfield = forms.IntegerField(required=False)
        elif name == "stop_distance":
            formfield = forms.DecimalField(
                required=False, min_value=0, max_digits=14, decimal_places=6
            )
        elif name == "max_daily_loss":
            formfield = forms.DecimalField(
                required=False, min_value=0, max_digits=14, decimal_places=2
            )
        elif name == "symbol_override":
            formfield = forms.CharField(required=False, max_length=32, empty_value=None)
        elif name == "take_profits":
            formfield = TakeProfitsField()
        elif name == "time_windows":
            formfield = TimeWindowsField()
        else:  # a new setting must get a field here (D21): fail loudly
            raise KeyError(f"no form field for setting {name!r}")
        formfield.label = LABELS[name]
        if name in HELP:
            formfield.help_text = HELP[name]
        if not isinstance(formfield, (forms.ChoiceField, _RowsField)):
            formfield.widget.attrs["placeholder"] = placeholder
        made[name] = formfield
    return made


class _SettingsForm(forms.Form):
    """Base: adds the settings fields; ``initial`` from a model instance round-trips."""

    head_fields: tuple[str, ...] = ()
    distance_units = DistanceUnit.choices
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

    def model_fields(self) -> dict[str, Any]:
        """Cleaned values keyed by model field name (for the services)."""
        return {name: self.cleaned_data[name] for name in self.model_field_names()}

    def rows(self, name: str) -> dict[str, Any]:
        bound = self[name]
        field = self.fields[name]
        assert isinstance(field, _RowsField)
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

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = Strategy.objects.filter(user=self.user, name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("You already have a strategy with this name.")
        return name


class TraderForm(_SettingsForm):
    head_fields = ("name", "enabled", "switched_off")

    name = forms.CharField(max_length=100)
    strategy = StrategyChoiceField(queryset=Strategy.objects.none(), empty_label=None)
    enabled = forms.BooleanField(required=False, initial=True, label="Trader on")
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
        return cleaned

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
        min_value=0,
        label="Max contracts",
        widget=forms.NumberInput(attrs={"placeholder": "no cap"}),
        help_text="Empty = no cap. 0 blocks every entry.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Account on")

    def __init__(self, data: Any = None, *, subaccounts: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field = self.fields["subaccount"]
        assert isinstance(field, forms.ModelChoiceField)
        if subaccounts is None:
            del self.fields["subaccount"]
        else:
            field.queryset = subaccounts

    @classmethod
    def for_account(cls, data: Any = None, *, account: TraderAccount) -> TraderAccountForm:
        return cls(
            data,
            initial={
                "multiplier": account.multiplier,
                "max_contracts": account.max_contracts,
                "enabled": account.enabled,
            },
        )


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
