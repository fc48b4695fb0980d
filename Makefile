# Bracketeer: `make demo` runs the whole product on this machine; `make test` runs the suite.
SHELL := /bin/bash
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
SIMULATOR_PORT ?= 8100
# The demo's Whop webhook secret (development only) so signed test webhooks can be posted.
DEMO_WHOP_WEBHOOK_SECRET := demo-only-whop-webhook-secret-0123456789
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
# Exported: the demo serves on WEB_HOST:WEB_PORT (Procfile), and config/settings.py makes
# SITE_URL (webhook URLs, e-mail links, the printed curl) follow it unless SITE_URL is given.
export WEB_HOST WEB_PORT SIMULATOR_PORT
export SIMULATOR_URL ?= http://127.0.0.1:$(SIMULATOR_PORT)

.PHONY: install services chromium demo seed run migrate test lint typecheck pytest bench check-deploy clean

install:  ## install every pinned dependency from uv.lock into .venv
	@scripts/bootstrap.sh

services:  ## start PostgreSQL and Redis on localhost if they are down, saying so
	@scripts/ensure_services.sh

chromium:  ## Debian's chromium for the browser tests, installed with apt-get if missing
	@scripts/ensure_chromium.sh

migrate: install services
	@$(PY) scripts/ensure_db.py
	@$(PY) manage.py migrate --no-input -v0

demo: install services  ## migrate, create the demo logins, start web + worker + beat + streams + simulator
	@$(PY) scripts/ensure_db.py
	@$(PY) manage.py preflight --host $(WEB_HOST) --port $(WEB_PORT) --port $(SIMULATOR_PORT)
	@$(PY) manage.py migrate --no-input -v0
	@$(PY) manage.py seed_demo
	@WHOP_WEBHOOK_SECRET="$${WHOP_WEBHOOK_SECRET:-$(DEMO_WHOP_WEBHOOK_SECRET)}" \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

# Two pytest-xdist workers (CI has 2 cores; much of the suite waits on real processes): each
# has its own test database (pytest-django's _gw0/_gw1 suffix) and Redis key prefix
# (config/settings.py), and runs a test file's tests together, in order. PYTEST_XDIST= runs
# the suite in one process, as a plain `.venv/bin/pytest` does.
PYTEST_XDIST ?= -n 2 --dist loadfile

pytest: install services chromium
	$(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# On a fresh machine of this kind: installs the lock's packages and chromium, starts
# PostgreSQL and Redis, then runs everything CI runs (.ci/run is this target).
test: install services chromium lint typecheck pytest  ## ruff + mypy + pytest, as CI runs it

bench: install  ## broker round trip + connect storm, signals, scale (issue 14's table), streams, copy trading, performance pages (needs PostgreSQL and Redis)
	$(PY) bench/broker.py
	$(PY) bench/signals.py
	$(PY) bench/scale.py
	$(PY) bench/streams.py
	$(PY) bench/copying.py
	$(PY) bench/performance.py

check-deploy: install  ## Django's deployment checklist with production-like variables
	@$(PY) scripts/check_deploy.py

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache
