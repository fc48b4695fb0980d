"""Run `manage.py check --deploy` with production-shaped variables (throwaway secrets)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def production_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_HTTPS": "true",
            "DJANGO_BEHIND_PROXY": "true",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "app.bracketeer.example",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://app.bracketeer.example",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SITE_URL": "https://app.bracketeer.example",
        }
    )
    return env


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(cmd, cwd=root, env=production_env(), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
