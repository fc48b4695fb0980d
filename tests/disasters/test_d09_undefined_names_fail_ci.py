"""D09 — a rewrite dropped a variable; a NameError took down 100% of trades.

Invariant (process): an undefined name fails CI. ruff's F821 is selected in the project's own
configuration and the test command runs it; this test proves the configured ruff rejects one.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_configuration_selects_pyflakes_and_bugbear() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "F" in config["select"] or "F821" in config["select"]
    assert "B" in config["select"]
    assert "F821" not in config.get("ignore", [])


def test_the_configured_ruff_rejects_an_undefined_name(tmp_path: Path) -> None:
    snippet = tmp_path / "executor.py"
    snippet.write_text(
        "def execute(accounts: list[str]) -> int:\n"
        "    for account in accounts:\n"
        "        print(account)\n"
        "    return len(failed_accounts)\n"
    )
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--config", str(ROOT / "pyproject.toml"), str(snippet)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "F821" in result.stdout and "failed_accounts" in result.stdout


def test_the_test_command_runs_ruff_and_mypy() -> None:
    makefile = (ROOT / "Makefile").read_text()
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "lint typecheck pytest" in test_line, test_line  # lint and types before the tests
    assert "ruff check ." in makefile and "mypy ." in makefile
