"""The README's `make test` does its own set-up on a fresh machine (issue 9, item 7).

Only .ci/run used to install Debian's chromium and start PostgreSQL and Redis, so `make test`
on a fresh machine failed every browser test. Now `make test` does that set-up and .ci/run
is a thin call of it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make_dry_run(target: str) -> list[str]:
    done = subprocess.run(
        ["make", "-n", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_test_installs_and_starts_what_the_suite_needs_before_running_it() -> None:
    steps = _make_dry_run("test")
    pytest = next(i for i, s in enumerate(steps) if "bin/pytest" in s)
    for setup in (
        "scripts/bootstrap.sh",
        "scripts/ensure_services.sh",
        "scripts/ensure_chromium.sh",
    ):
        assert any(setup in s for s in steps[:pytest]), f"{setup} not run before pytest: {steps}"


def test_make_demo_starts_the_services_too() -> None:
    steps = _make_dry_run("demo")
    assert any("scripts/ensure_services.sh" in s for s in steps), steps


def test_ci_is_a_thin_call_of_make_test() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "exec make test PYTEST_ARGS=--create-db"
    assert not any("apt-get" in c or "pg_ctlcluster" in c or "redis-server" in c for c in commands)


def test_a_missing_chromium_is_installed_with_apt_get_and_it_says_so(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    log = tmp_path / "apt.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\necho Chromium 1.0\\n" > {chromium};'
        f" chmod +x {chromium};; esac\n"
    )
    fake.chmod(0o755)
    sudo = bin_dir / "sudo"  # when the suite does not run as root: sudo without a password
    sudo.write_text('#!/bin/sh\n[ "$1" = "-n" ] && shift\nexec "$@"\n')
    sudo.chmod(0o755)
    env = {**os.environ, "CHROMIUM": str(chromium), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_chromium.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "installing it (apt-get install -y chromium)" in done.stdout
    assert "chromium installed: Chromium 1.0" in done.stdout
    assert log.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]

    again = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_chromium.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (again.returncode, again.stdout) == (0, "")  # present: nothing done, nothing said
    assert len(log.read_text().splitlines()) == 2
