#!/usr/bin/env bash
# Installs the pinned uv (if missing) and every Python dependency from uv.lock into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
export UV_PYTHON_DOWNLOADS=never
if ! python3 -m uv --version 2>/dev/null | grep -q "uv ${UV_VERSION}"; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
fi
python3 -m uv sync --frozen --quiet "$@"
