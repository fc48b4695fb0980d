"""D24 — an unpinned e-mail SDK upgraded itself; no activation e-mails for two days.

Invariant: every dependency is pinned in a lock (exact versions, hashes) and installed from it
unchanged. (The "e-mail failure is visible and retried" half lands with billing.)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXACT = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([0-9][^;,\s]*)$")


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = project.get("dependency-groups", {})
    return [*project["project"]["dependencies"], *(d for g in groups.values() for d in g)]


def test_every_declared_dependency_is_pinned_exactly() -> None:
    loose = [d for d in _declared() if not EXACT.match(d)]
    assert loose == []


def test_the_lock_holds_every_declared_version_with_hashes() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p for p in lock["package"]}
    for requirement in _declared():
        match = EXACT.match(requirement)
        assert match is not None
        name = match.group(1).lower().replace("_", "-")
        assert name in locked, f"{name} is declared but not locked"
        assert locked[name]["version"] == match.group(3), f"{name}: lock and pyproject disagree"
    unhashed = [
        name
        for name, p in locked.items()
        if p.get("source", {}).get("registry")
        and not all(
            "hash" in w for w in p.get("wheels", []) + ([p["sdist"]] if "sdist" in p else [])
        )
    ]
    assert unhashed == []


def test_installs_use_the_lock_unchanged() -> None:
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "uv sync --frozen" in bootstrap
    assert "scripts/bootstrap.sh" in (ROOT / ".ci" / "run").read_text()
