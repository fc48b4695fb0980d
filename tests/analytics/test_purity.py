"""The pure modules stay pure: no ORM, no network, no clock of their own (like the engine's
D17 check): what they compute depends on their arguments only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["analytics/round_trips.py", "analytics/metrics.py", "copytrade/sizing.py"]
ALLOWED = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "typing",
    "zoneinfo",
    "trading.contracts",
}


@pytest.mark.parametrize("name", PURE)
def test_a_pure_module_imports_nothing_with_side_effects(name: str) -> None:
    tree = ast.parse((ROOT / name).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= ALLOWED, imported - ALLOWED
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not {c for c in calls if c.endswith(("now", "today", "time"))}, calls
