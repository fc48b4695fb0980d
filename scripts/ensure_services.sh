#!/usr/bin/env bash
# PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (what the demo and the test suite
# use): each is started when it is down, saying so; exits non-zero, naming what to do, when one
# cannot be started. Used by `make demo` and `make test` (hence by .ci/run).
set -euo pipefail

say() { printf '== %s\n' "$*"; }

if ! command -v pg_isready >/dev/null 2>&1; then
  say "PostgreSQL is not installed (no pg_isready): apt-get install -y postgresql"
  exit 1
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  cluster="$(ls /etc/postgresql 2>/dev/null | head -1)"
  if [ -z "${cluster}" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "PostgreSQL is not answering on 127.0.0.1:5432 and no local cluster to start: start it"
    exit 1
  fi
  say "PostgreSQL is down: starting cluster ${cluster}/main"
  pg_ctlcluster --skip-systemctl-redirect "${cluster}" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  say "PostgreSQL did not come up on 127.0.0.1:5432"
  exit 1
fi

if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  say "Redis is not installed (no redis-server/redis-cli): apt-get install -y redis-server"
  exit 1
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "Redis is down: starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "Redis did not come up on 127.0.0.1:6379"
  exit 1
fi
