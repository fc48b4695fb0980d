"""Form fields of the settings forms: bounded numbers, take-profit and time-window rows,
symbols and contract roots. Every number has bounds the form states (a number too large for
its column was a 500, issue 9); every symbol is one Bracketeer can trade.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from trading.contracts import CONTRACT_SPECS, parse_symbol
from trading.models import Strategy
from trading.settings_resolution import MAX_TAKE_PROFIT_LEVELS, MAX_TIME_WINDOWS, DistanceUnit

QTY_UNITS = (("contracts", "contracts"), ("percent", "% of position"))

# Bounds of every number a form takes: inside its column (a larger number was a 500) and
# inside what anyone trades. The form says them (help text, "At most N." errors).
MOST_CONTRACTS = 1_000
MOST_TICKS = 10_000
BOUNDS: dict[str, tuple[int | Decimal, int | Decimal]] = {
    "entry_size": (0, MOST_CONTRACTS),
    "add_size": (0, MOST_CONTRACTS),
    "break_even_trigger_ticks": (0, MOST_TICKS),
    "break_even_offset_ticks": (-MOST_TICKS, MOST_TICKS),
    "trailing_trigger_ticks": (0, MOST_TICKS),
    "trailing_step_ticks": (0, MOST_TICKS),
    "cooldown_seconds": (0, 7 * 24 * 3600),
    "max_signals_per_day": (0, 1_000),
    "stop_distance": (Decimal(0), Decimal(100_000)),
    "max_daily_loss": (Decimal(0), Decimal(10_000_000)),
    "max_contracts": (0, MOST_CONTRACTS),
    "alert_quantity_max": (1, Strategy.ALERT_QUANTITY_MAX_LIMIT),
}
TAKE_PROFIT_MOST_DISTANCE = Decimal(100_000)


def _words(number: int | Decimal) -> str:
    return f"{number:,}"


def bounds_words(name: str) -> str:
    low, high = BOUNDS[name]
    return f"{_words(low)} to {_words(high)}."


def bounded(name: str, formfield: forms.Field, *, help_text: str = "") -> forms.Field:
    """Min/max validators, the "At least/At most N." messages and the bounds in the help."""
    low, high = BOUNDS[name]
    assert isinstance(formfield, (forms.IntegerField, forms.DecimalField))
    formfield.validators.extend(
        [
            MinValueValidator(low, message=f"At least {_words(low)}."),
            MaxValueValidator(high, message=f"At most {_words(high)}."),
        ]
    )
    formfield.widget.attrs.update({"min": str(low), "max": str(high)})
    formfield.help_text = f"{help_text} {bounds_words(name)}".strip()
    return formfield


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


class RowsField(forms.Field):
    columns: tuple[str, ...] = ()
    typed_columns: tuple[str, ...] = ()  # a row counts as filled when one of these is typed in
    max_rows = 1
    none_words = "none"
    rows_words = "these rows"

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
        if mode == "rows" and not filled:
            raise ValidationError(
                f"You chose “{self.rows_words}” but every one is empty: fill one in, or "
                f"choose “{self.none_words}”."
            )
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


def _decimal_text(
    text: str,
    what: str,
    *,
    minimum: Decimal = Decimal(0),
    maximum: Decimal,
    too_much: str | None = None,
) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{what}: {text!r} is not a number.") from None
    if not number.is_finite() or number < minimum:
        raise ValidationError(f"{what} must be at least {minimum}.")
    if number > maximum:
        raise ValidationError(too_much or f"{what}: at most {_words(maximum)}.")
    return text


class TakeProfitsField(RowsField):
    columns = ("distance", "unit", "qty", "qty_unit")
    typed_columns = ("distance", "qty")
    max_rows = MAX_TAKE_PROFIT_LEVELS
    none_words = "No take-profit"
    rows_words = "These levels"

    def clean_row(self, number: int, row: dict[str, str]) -> dict[str, str]:
        what = f"Take-profit {number}"
        unit, qty_unit = row["unit"] or "ticks", row["qty_unit"] or "contracts"
        if unit not in {u.value for u in DistanceUnit}:
            raise ValidationError(f"{what}: unknown unit {unit!r}.")
        if qty_unit not in dict(QTY_UNITS):
            raise ValidationError(f"{what}: unknown quantity unit {qty_unit!r}.")
        if row["distance"] == "":
            if unit != DistanceUnit.PRICE:
                raise ValidationError(f"{what}: enter a distance.")
            distance = "0"  # the alert's own price: the distance is not used
        else:
            distance = _decimal_text(
                row["distance"], f"{what} distance", maximum=TAKE_PROFIT_MOST_DISTANCE
            )
        if row["qty"] == "":
            raise ValidationError(f"{what}: enter a quantity.")
        percent = qty_unit == "percent"
        qty = _decimal_text(
            row["qty"],
            f"{what} quantity",
            maximum=Decimal(100 if percent else MOST_CONTRACTS),
            too_much=f"{what}: a quantity of {row['qty']} with quantity unit “% of position” "
            "is more than the whole position: at most 100."
            if percent
            else None,
        )
        if Decimal(qty) == 0:
            raise ValidationError(f"{what}: a quantity of 0 closes nothing; remove the row.")
        return {"distance": distance, "unit": unit, "qty": qty, "qty_unit": qty_unit}


class TimeWindowsField(RowsField):
    columns = ("start", "end")
    typed_columns = ("start", "end")
    max_rows = MAX_TIME_WINDOWS
    none_words = "Any time (no window)"
    rows_words = "These windows"

    def clean_row(self, number: int, row: dict[str, str]) -> list[str]:
        what = f"Time window {number}"
        try:
            start, end = time.fromisoformat(row["start"]), time.fromisoformat(row["end"])
        except ValueError:
            raise ValidationError(f"{what}: enter a start and an end as HH:MM.") from None
        if start == end:
            raise ValidationError(f"{what}: start and end are the same time.")
        return [start.strftime("%H:%M"), end.strftime("%H:%M")]


class SymbolField(forms.CharField):
    """A contract symbol Bracketeer can trade (MNQ1!, MESZ2026, CME_MINI:NQZ2026), or empty."""

    def clean(self, value: Any) -> str | None:
        cleaned: str | None = super().clean(value)
        if cleaned is None or cleaned.strip() == "":
            return None
        try:
            parse_symbol(cleaned)
        except ValueError as exc:
            raise ValidationError(
                f"{cleaned!r} is not a symbol Bracketeer can trade: {exc}."
            ) from None
        return cleaned.strip()


KNOWN_ROOTS = ", ".join(sorted(CONTRACT_SPECS))


class RootsField(forms.CharField):
    """Contract roots, comma-separated ("NQ, MNQ"), as a list of known roots."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def clean(self, value: Any) -> list[str]:
        if isinstance(value, list):  # the initial value itself
            value = ", ".join(value)
        text: str = super().clean(value) or ""
        roots: list[str] = []
        for part in text.replace(" ", ",").split(","):
            root = part.strip().upper()
            if root == "" or root in roots:
                continue
            if root not in CONTRACT_SPECS:
                raise ValidationError(
                    f"{part.strip()!r} is not a contract root Bracketeer knows; known: "
                    f"{KNOWN_ROOTS}."
                )
            roots.append(root)
        return roots


def symbol_root(symbol: str) -> str:
    return parse_symbol(symbol).root
