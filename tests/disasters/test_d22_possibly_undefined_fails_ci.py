"""D22 — a variable defined only in an else-branch; 0 accounts traded, silently.

Invariant (process half): a possibly-undefined name fails CI. mypy runs with the
``possibly-undefined`` error code from the project's configuration; this test proves that
configuration catches the pattern. (The "no enabled accounts is a visible outcome" half lands
with the signal executor.)
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _configured_error_codes() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["enable_error_code"]


def test_mypy_is_configured_with_possibly_undefined() -> None:
    assert "possibly-undefined" in _configured_error_codes()


def test_the_configured_mypy_rejects_a_name_bound_in_one_branch(tmp_path: Path) -> None:
    snippet = tmp_path / "accounts_for_signal.py"
    snippet.write_text(
        "def enabled_accounts(flags: list[bool]) -> int:\n"
        "    if not flags:\n"
        "        pass\n"
        "    else:\n"
        "        accounts = [f for f in flags if f]\n"
        "    return len(accounts)\n"
    )
    flags = [arg for code in _configured_error_codes() for arg in ("--enable-error-code", code)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--config-file",
            "",
            *flags,
            str(snippet),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert "possibly-undefined" in result.stdout and '"accounts"' in result.stdout
