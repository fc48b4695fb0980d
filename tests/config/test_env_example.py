""".env.example lists every variable the settings read, with its default and meaning.

It had drifted (28 of 41 variables). The settings module is executed here with a recording
``environ.Env``: every name it reads, and the value it gets with nothing set, is compared
with the file. The Procfile's own variables (the demo runner's) count as read too.
"""

from __future__ import annotations

import ast
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import environ
import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "config" / "settings.py"
EXAMPLE = ROOT / ".env.example"
PROCFILE = ROOT / "Procfile"
VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def example() -> dict[str, str]:
    """Name -> value of every variable line of .env.example."""
    found: dict[str, str] = {}
    for line in EXAMPLE.read_text().splitlines():
        match = VARIABLE.match(line)
        if match is not None:
            assert match[1] not in found, f"{match[1]} is listed twice in .env.example"
            found[match[1]] = match[2]
    return found


def settings_reads(environment: dict[str, str]) -> dict[str, Any]:
    """Execute config/settings.py with exactly ``environment`` (no .env file, nothing from
    this process): every variable it reads through ``environ.Env``, with the value it got."""
    seen: dict[str, Any] = {}
    original = environ.Env.get_value

    def recording(self: environ.Env, var: str, *args: Any, **kwargs: Any) -> Any:
        value = original(self, var, *args, **kwargs)
        seen[var] = value
        return value

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(environ.Env, "ENVIRON", dict(environment))
        patch.setattr(environ.Env, "get_value", recording)
        patch.setattr(environ.Env, "read_env", classmethod(lambda cls, *a, **k: None))
        runpy.run_path(str(SETTINGS))
    return seen


def settings_names_in_source() -> set[str]:
    """Names in ``env.<kind>("NAME"`` calls, branches not taken included."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def procfile_names() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", PROCFILE.read_text()))


def _comment_above(name: str) -> Iterator[str]:
    lines = EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{name}="):
            yield lines[index - 1] if index > 0 else ""


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    read = set(settings_reads({})) | settings_names_in_source() | procfile_names()
    missing = sorted(read - set(example()))
    assert missing == [], (
        f"read by config/settings.py or the Procfile, not in .env.example: {missing}"
    )


def test_env_example_lists_nothing_that_is_no_longer_read() -> None:
    read = set(settings_reads({})) | settings_names_in_source() | procfile_names()
    stale = sorted(set(example()) - read)
    assert stale == [], f"in .env.example but read by nothing: {stale}"


def test_every_value_in_env_example_is_the_default() -> None:
    defaults = settings_reads({})
    listed = {name: value for name, value in example().items() if value != ""}
    as_listed = settings_reads(listed)
    wrong = {
        name: (listed[name], defaults[name])
        for name in listed
        if name in defaults and as_listed[name] != defaults[name]
    }
    assert wrong == {}, f".env.example value vs the settings' default: {wrong}"


def test_every_variable_says_what_it_means() -> None:
    silent = [
        name
        for name in example()
        for above in _comment_above(name)
        if not above.startswith("# ") or above.startswith("# ---")
    ]
    assert silent == [], f"no comment line right above: {silent}"
