"""Static checks over the application's own code (not tests, not scripts, not migrations).

Each checker takes source text and returns the offending lines; the tests run each checker on
a known-bad snippet too, so a checker that stops finding anything fails the suite.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("config", "accounts", "trading", "copytrade", "billing", "simulator")
# The only modules that may open HTTP connections: clients of external services.
HTTP_CLIENT_MODULES = ("trading/brokers/", "billing/whop")
HTTP_LIBRARIES = {"httpx", "requests", "urllib.request", "urllib3", "aiohttp", "http.client"}


def app_sources() -> Iterator[tuple[str, str]]:
    for package in APP_PACKAGES:
        base = ROOT / package
        if not base.exists():
            continue
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield str(path.relative_to(ROOT)), path.read_text()


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def sqlite_uses(source: str) -> list[str]:
    tree = ast.parse(source)
    found = [
        f"line {n}: import {name}" for n, name in _imports(tree) if name.split(".")[0] == "sqlite3"
    ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "sqlite" in node.value
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def raw_sql_uses(source: str) -> list[str]:
    """Cursor use, ``.raw()``, ``.extra()`` and ``RawSQL``: the ORM is the only SQL writer."""
    tree = ast.parse(source)
    found = [f"line {n}: {name}" for n, name in _imports(tree) if name.endswith(".RawSQL")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"cursor", "raw", "extra", "executemany"}:
                found.append(f"line {node.lineno}: .{node.func.attr}()")
            elif node.func.attr == "execute" and not _is_pipeline(node.func.value):
                found.append(f"line {node.lineno}: .execute()")
        if isinstance(node, ast.Name) and node.id == "RawSQL":
            found.append(f"line {node.lineno}: RawSQL")
    return found


def _is_pipeline(node: ast.expr) -> bool:
    # Redis pipelines call .execute() too; they are not SQL.
    return isinstance(node, ast.Name) and "pipe" in node.id.lower()


def http_to_self_uses(path: str, source: str) -> list[str]:
    """HTTP clients only in external-service clients, and never pointed at our own URLs."""
    tree = ast.parse(source)
    found: list[str] = []
    allowed = path.startswith(HTTP_CLIENT_MODULES)
    for lineno, name in _imports(tree):
        if not allowed and any(name == lib or name.startswith(f"{lib}.") for lib in HTTP_LIBRARIES):
            found.append(
                f"line {lineno}: imports {name} (HTTP clients belong in {HTTP_CLIENT_MODULES})"
            )
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for inner in ast.walk(arg):
                    if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) == "reverse":
                        if isinstance(node.func, ast.Attribute) and node.func.attr in {
                            "get",
                            "post",
                            "put",
                            "patch",
                            "delete",
                            "request",
                            "stream",
                            "urlopen",
                        }:
                            found.append(f"line {node.lineno}: HTTP call to reverse(...)")
                    if isinstance(inner, ast.Attribute) and inner.attr == "SITE_URL":
                        if isinstance(node.func, ast.Attribute) and node.func.attr in {
                            "get",
                            "post",
                            "put",
                            "patch",
                            "delete",
                            "request",
                            "stream",
                            "urlopen",
                        }:
                            found.append(f"line {node.lineno}: HTTP call to SITE_URL")
    return found
