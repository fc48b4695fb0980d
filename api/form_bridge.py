"""JSON in, the pages' own forms validate: the API accepts exactly what the pages accept, with
the same messages (one set of rules, in ``trading.forms`` and ``copytrade.forms``).

``form_data`` turns API values (model field names and types) into the data a form reads;
``form_errors`` turns a form's errors into ``{"field": [messages]}`` for the error body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from rest_framework.exceptions import ValidationError

from trading.form_fields import TakeProfitsField, TimeWindowsField
from trading.setting_words import BOOLEANS

ROW_FIELDS = {"take_profits": TakeProfitsField, "time_windows": TimeWindowsField}


def _rows(name: str, value: Any) -> dict[str, Any]:
    field = ROW_FIELDS[name]
    if value is None:
        return {f"{name}-mode": ""}
    if len(value) > field.max_rows:
        raise ValidationError({name: [f"At most {field.max_rows}."]})
    data: dict[str, Any] = {f"{name}-mode": "rows" if value else "none"}
    for i, row in enumerate(value):
        cells = dict(zip(field.columns, row, strict=False)) if isinstance(row, list) else row
        for column in field.columns:
            cell = cells.get(column)
            data[f"{name}-{i}-{column}"] = "" if cell is None else str(cell)
    return data


def form_data(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a posted form would carry for ``values`` (None: the empty input)."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        if name in ROW_FIELDS:
            data.update(_rows(name, value))
        elif name in BOOLEANS:
            data[name] = "" if value is None else str(bool(value))
        elif isinstance(value, bool):
            data[name] = value  # a checkbox reads a bool as it is
        elif name == "symbol_allow_list":
            data[name] = ", ".join(value or [])
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        elif isinstance(value, dict):
            data[name] = "\n".join(f"{k}={v}" for k, v in value.items())
        else:
            data[name] = "" if value is None else str(value)
    return data


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {
        ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
        for name, messages in form.errors.items()
    }


def validated(form: forms.Form) -> forms.Form:
    """The form, valid; else a 400 with its messages per field."""
    if not form.is_valid():
        raise ValidationError(form_errors(form))
    return form
