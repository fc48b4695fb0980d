"""Many rows, each with its own values, written in one UPDATE through the ORM.

Django's ``bulk_update`` builds a ``CASE WHEN pk = ... THEN ...`` expression per row and field:
for a fan-out's 100 rows of 8 fields that took about 0.3 s of CPU per call (measured with a
profile of trading/fanout.py), more than the broker round trips it sits between. Here each
field is one expression, ``(ARRAY[values])[array_position(ARRAY[pks], pk)]``, whatever the
number of rows: PostgreSQL picks each row's value by the row's position in the key array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Field, Func, Model, Value


class ValueForRow(Func):
    """``values[i]`` for the row whose primary key is ``keys[i]`` (both PostgreSQL arrays)."""

    def __init__(self, *, field: Any, keys: list[Any], values: list[Any], key_field: Any) -> None:
        self.value_field, self.key_field = field, key_field
        super().__init__(
            Value(values, output_field=ArrayField(field.clone())),
            Value(keys, output_field=ArrayField(key_field.clone())),
            F(key_field.attname),
            output_field=field,
        )

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        (values, v_params), (keys, k_params), (key, key_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        # Typed arrays: an array of only NULLs (or of JSON) must still say what it holds.
        value_type = self.value_field.db_type(connection)
        key_type = self.key_field.rel_db_type(connection)
        return (
            f"(CAST({values} AS {value_type}[]))[array_position(CAST({keys} AS {key_type}[]), "
            f"{key})]",
            (*v_params, *k_params, *key_params),
        )


def rows_update(rows: Sequence[Model], *, fields: Sequence[str]) -> int:
    """Write ``fields`` of every row (model instances of one model, saved) in one UPDATE; the
    number of rows updated. Values go through each field's own conversion, as in ``save``."""
    if not rows or not fields:
        return 0
    model = type(rows[0])
    meta = model._meta
    keys = [row.pk for row in rows]
    assignments = {}
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, Field), f"{name} is not a column of {model.__name__}"
        assignments[field.attname] = ValueForRow(
            field=field,
            keys=keys,
            values=[getattr(row, field.attname) for row in rows],
            key_field=meta.pk,
        )
    return int(model._default_manager.filter(pk__in=keys).update(**assignments))
