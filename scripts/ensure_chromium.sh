#!/usr/bin/env bash
# Debian's chromium, which the browser tests drive through Playwright (Playwright's own browser
# download does not work on this kind of machine). Installed with apt-get when missing, saying
# so; exits non-zero with the command to run when it cannot be installed from here.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
say() { printf '== %s\n' "$*"; }

if [ -x "${CHROMIUM}" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "The browser tests need Debian's chromium at ${CHROMIUM}, and this machine has no apt-get: install it"
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  say "The browser tests need Debian's chromium: run  sudo apt-get install -y chromium"
  exit 1
fi
say "The browser tests need Debian's chromium, missing here: installing it (apt-get install -y chromium)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null
if [ ! -x "${CHROMIUM}" ]; then
  say "apt-get installed chromium but ${CHROMIUM} is still missing"
  exit 1
fi
say "chromium installed: $("${CHROMIUM}" --version 2>/dev/null || echo "${CHROMIUM}")"
