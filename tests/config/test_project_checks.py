"""Acceptance checks of the foundation that must stay true: migrations and the deploy checklist."""

from __future__ import annotations

from tests.processes import run_python


def test_models_and_migrations_agree() -> None:
    result = run_python("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_checklist_passes_with_production_variables() -> None:
    result = run_python("scripts/check_deploy.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_checklist_fails_with_the_development_secret() -> None:
    script = (
        "import subprocess, sys; sys.path.insert(0, 'scripts');"
        "from check_deploy import production_env; env = production_env();"
        "env.pop('DJANGO_SECRET_KEY');"
        "sys.exit(subprocess.run([sys.executable, 'manage.py', 'check', '--deploy'],"
        " env=env).returncode)"
    )
    result = run_python("-c", script)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
