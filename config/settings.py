"""Bracketeer settings: one module, one ``environ.Env``; every variable is in ``.env.example``."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from trading.contracts import CONTRACT_SPECS
from trading.settings_resolution import order_qty_ceilings_parse

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (never committed) overrides the defaults; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development key is deliberately marked insecure: `check --deploy` rejects it (W009) and
# config.checks rejects a production start without DJANGO_SECRET_KEY.
DEV_SECRET_KEY = "django-insecure-bracketeer-development-only-key-never-use-in-production-0123"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Where `make demo` serves (Makefile -> Procfile). Unless SITE_URL is given, the URLs the site
# shows (webhook URLs, e-mail links, the demo's printout) follow that port.
WEB_HOST = env.str("WEB_HOST", default="127.0.0.1")
WEB_PORT = env.int("WEB_PORT", default=8000)


def _site_url_default(host: str, port: int) -> str:
    if host in {"", "127.0.0.1", "0.0.0.0", "::1", "::", "localhost"}:
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


SITE_URL = env.str("SITE_URL", default=_site_url_default(WEB_HOST, WEB_PORT)).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "config.apps.ConfigConfig",
    "accounts.apps.AccountsConfig",
    "trading.apps.TradingConfig",
    "copytrade.apps.CopytradeConfig",
    "analytics.apps.AnalyticsConfig",
    "billing.apps.BillingConfig",
    "api.apps.ApiConfig",
    # Only for `manage.py run_simulator`; the simulator itself does not use Django.
    "simulator.apps.SimulatorConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Logged-in answers carry account data: Cache-Control: no-store unless a view said otherwise.
    "config.middleware.NoStoreMiddleware",
    # Turns a log-in refused for a lock-out into the lock-out page (accounts/throttling.py).
    "axes.middleware.AxesMiddleware",
    # Must stay last: see config/middleware.py (one thread hop per request, not ~30).
    "config.middleware.SyncBoundaryMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billing.context_processors.billing_banner",
            ],
        },
    },
]

# --- database: PostgreSQL only (D36) ----------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bracketeer"),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # the psycopg pool keeps connections, not Django
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=1),
        "max_size": env.int("DATABASE_POOL_MAX", default=8),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, channel layer, cache, heartbeats ------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="bracketeer")
# A test run split over pytest-xdist workers: each worker (and every process it starts, which
# inherits both variables) gets its own keyspace, as pytest-django gives it its own database.
# Test prefixes only (not a deployment variable: read from os.environ, not .env.example);
# idempotent, so a child that inherits an already suffixed prefix keeps it.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if (
    _XDIST_WORKER
    and REDIS_KEY_PREFIX.startswith("bracketeer-test")
    and not REDIS_KEY_PREFIX.endswith(f"-{_XDIST_WORKER}")
):
    REDIS_KEY_PREFIX = f"{REDIS_KEY_PREFIX}-{_XDIST_WORKER}"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{REDIS_KEY_PREFIX}:cache",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# The channel layer waits for a socket's next message with a blocking BZPOPMIN of 5 s
# (channels_redis' RedisChannelLayer.brpop_timeout) and redis-py 8 gives every read a default
# socket_timeout of 5 s: a quiet wait's empty answer arrived just after the read deadline, the
# read raised TimeoutError and took the browser's socket with it (closed 1006 every ~5 s). A
# read must be allowed to outlast the blocking wait; 15 s still notices a dead Redis.
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = 15
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS,
                    "socket_connect_timeout": 2,
                }
            ],
            "prefix": f"{REDIS_KEY_PREFIX}:channels",
        },
    }
}

# --- copy trading ---------------------------------------------------------------------------
# A leader fill recorded later than this after it happened (a snapshot after a long gap) is not
# copied blind: the followers are compared with their target and marked drifted instead.
COPY_MAX_FILL_AGE_SECONDS = env.int("COPY_MAX_FILL_AGE_SECONDS", default=120)
# Followers of one group served at once (each its own thread and database connection).
COPY_FOLLOWER_CONCURRENCY = env.int("COPY_FOLLOWER_CONCURRENCY", default=16)
# A worker copying a fill renews a lease this long; when it lapses (the worker died) beat's
# sweep copies the fill again.
COPY_LEASE_SECONDS = env.int("COPY_LEASE_SECONDS", default=10)

# --- celery (see config/celery.py for the reasoning behind each choice) -----------------------
CELERY_BROKER_URL = REDIS_URL
# No result backend: every task records what it did in PostgreSQL, nothing waits on a result.
# (A backend cost each web request ~1 ms of CPU: Celery builds one per thread, and Django's ASGI
# handler runs every request on a fresh thread.)
CELERY_RESULT_BACKEND = None
# Redis re-delivers an unacknowledged message after this many seconds. It must exceed the
# longest task run (CELERY_TASK_TIME_LIMIT) plus the longest retry countdown we use (300 s).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Periodic work (config/celery.py reads this). Each entry names its task and queue.
CELERY_BEAT_SCHEDULE = {
    # Tokens expiring within TRADOVATE_RENEW_BEFORE_SECONDS are renewed (D26).
    "renew-broker-tokens": {
        "task": "trading.renew_broker_tokens",
        "schedule": 60.0,
        "options": {"queue": "default"},
    },
    # Signals whose worker died (lease lapsed) are resumed, and in-doubt orders whose look-up
    # is overdue are looked up (exactly once: locks + clOrdIds).
    "resume-stale-signals": {
        "task": "trading.resume_stale_signals",
        "schedule": 5.0,
        "options": {"queue": "default"},
    },
    # Leader fills whose copying worker died (lease lapsed) are copied again (exactly once).
    "resume-stale-copies": {
        "task": "copytrade.resume_stale_copies",
        "schedule": 5.0,
        "options": {"queue": "default"},
    },
    # Traders with flatten_after_cutoff: a CLOSE when their trading window ends.
    "flatten-after-cutoff": {
        "task": "trading.flatten_after_cutoff",
        "schedule": 30.0,
        "options": {"queue": "default"},
    },
    "billing-membership-sync": {
        "task": "billing.membership_sync",
        "schedule": env.float("WHOP_SYNC_INTERVAL_SECONDS", default=900.0),
        "options": {"queue": "default"},
    },
}

# --- auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
# django-axes first: it refuses a locked-out log-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Log-in throttling (accounts/throttling.py): failures count per account and per client
# address separately; either reaching the limit locks for the cool-off, admin log-in included.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.throttling.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.login_locked_out"
AXES_RESET_ON_SUCCESS = True
# Attempts are rows in PostgreSQL (AccessAttempt, in the admin); successful log-ins are not
# recorded (Django's last_login says enough).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_DISABLE_ACCESS_LOG = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the source folders when collectstatic has not run (dev, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# --- e-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bracketeer <no-reply@localhost>")
# Production: DJANGO_EMAIL_BACKEND=anymail.backends.brevo.EmailBackend and BREVO_API_KEY.
ANYMAIL = {"BREVO_API_KEY": env.str("BREVO_API_KEY", default="")}

# --- secrets for later layers (validated by config.checks, D13) --------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). In development an
# empty value falls back to a key derived from SECRET_KEY; production refuses to start without.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_KEYS_FROM_ENV = bool(FIELD_ENCRYPTION_KEYS)
if not FIELD_ENCRYPTION_KEYS:
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]
WHOP_API_KEY = env.str("WHOP_API_KEY", default="")
WHOP_WEBHOOK_SECRET = env.str("WHOP_WEBHOOK_SECRET", default="")
# Unsigned (rejected) Whop posts kept a minute, per client address; more are answered 429 and
# not stored (anyone can post: the table must not fill).
WHOP_REJECTED_PER_MINUTE = env.int("WHOP_REJECTED_PER_MINUTE", default=20)
WHOP_COMPANY_ID = env.str("WHOP_COMPANY_ID", default="")
WHOP_API_BASE_URL = env.str("WHOP_API_BASE_URL", default="https://api.whop.com/api/v1")
WHOP_HTTP_TIMEOUT_SECONDS = env.float("WHOP_HTTP_TIMEOUT_SECONDS", default=10.0)

# --- brokers --------------------------------------------------------------------------------
# Every Tradovate REST call gives up after this many seconds (D35, D43).
TRADOVATE_TIMEOUT_SECONDS = env.float("TRADOVATE_TIMEOUT_SECONDS", default=8.0)
# A 429 without Retry-After locks a login out for about an hour (PROTOCOLS.md).
TRADOVATE_429_COOLDOWN_SECONDS = env.float("TRADOVATE_429_COOLDOWN_SECONDS", default=3600.0)
TRADOVATE_CAPTCHA_COOLDOWN_SECONDS = env.float("TRADOVATE_CAPTCHA_COOLDOWN_SECONDS", default=3600.0)
# A penalty ticket asking for a longer wait than this is not waited out inside a request.
TRADOVATE_MAX_PENALTY_WAIT_SECONDS = env.float("TRADOVATE_MAX_PENALTY_WAIT_SECONDS", default=30.0)
TRADOVATE_APP_ID = env.str("TRADOVATE_APP_ID", default="Bracketeer")
TRADOVATE_APP_VERSION = env.str("TRADOVATE_APP_VERSION", default="1.0")
# Renew a token when fewer than this many seconds remain (Tradovate: under 15 minutes).
TRADOVATE_RENEW_BEFORE_SECONDS = env.int("TRADOVATE_RENEW_BEFORE_SECONDS", default=900)
# The paper broker: where `manage.py run_simulator` listens.
SIMULATOR_URL = env.str("SIMULATOR_URL", default="http://127.0.0.1:8100").rstrip("/")

# --- streams (manage.py run_streams) --------------------------------------------------------
# Each broker login's user stream is held by one streams process through a Redis lease of this
# many seconds, renewed every third of it; a dead holder's logins are taken over after it.
STREAM_LEASE_SECONDS = env.float("STREAM_LEASE_SECONDS", default=10.0)
# Every this many seconds an open user stream asks for a full snapshot again (reconciliation).
STREAM_RESYNC_SECONDS = env.float("STREAM_RESYNC_SECONDS", default=180.0)
# A login whose user stream has been down this many seconds is reported by /healthz.
STREAM_DOWN_REPORT_SECONDS = env.float("STREAM_DOWN_REPORT_SECONDS", default=60.0)

# --- signals ----------------------------------------------------------------------------------
# The same alert body again within this many seconds is a duplicate delivery (no alert id).
SIGNAL_DEDUP_WINDOW_SECONDS = env.int("SIGNAL_DEDUP_WINDOW_SECONDS", default=10)
# Alerts one webhook URL may send a minute; more are refused (429) and logged as rejected.
# Generous: TradingView itself stops an alert that fires more than 15 times in 3 minutes.
WEBHOOK_ALERTS_PER_MINUTE = env.int("WEBHOOK_ALERTS_PER_MINUTE", default=120)
# A signal not started within this many seconds of arrival is not traded (said so).
SIGNAL_MAX_AGE_SECONDS = env.int("SIGNAL_MAX_AGE_SECONDS", default=120)
# A worker executing a signal renews a lease this long; lapsed, the sweep resumes the signal.
SIGNAL_LEASE_SECONDS = env.int("SIGNAL_LEASE_SECONDS", default=10)
# An order call with no answer is looked up by clOrdId after each of these delays (about 7
# minutes in all), then on every sweep; only then is it "never placed" (trading/in_doubt.py).
IN_DOUBT_LOOKUP_DELAYS_SECONDS = env.list(
    "IN_DOUBT_LOOKUP_DELAYS_SECONDS", cast=float, default=[2, 4, 8, 15, 30, 60, 120, 180]
)
# Entries stop on a trading account holding this many working orders (Z6).
WORKING_ORDERS_CAP = env.int("WORKING_ORDERS_CAP", default=40)
# Accounts of one signal executed at once by a worker process on the per-account path (an
# outcome resumed, a close or reversal, an account whose lock was busy: trading/execution.py).
SIGNAL_ACCOUNT_CONCURRENCY = env.int("SIGNAL_ACCOUNT_CONCURRENCY", default=16)
# The fan-out (trading/fanout.py): a signal's fresh outcomes are executed per broker login (one
# read, the decisions, the rows, then the calls at once), and a leader fill's followers likewise
# (copytrade/fanout.py). FANOUT_BATCH=false sends every account and follower down the
# per-account path (the benches' "sequential"). A signal with more accounts than
# FANOUT_CHUNK_ACCOUNTS is split by login into chunks run by other worker processes too; a
# login never has more than FANOUT_LOGIN_CONCURRENCY calls in flight; FANOUT_HTTP_THREADS
# threads per process send them.
FANOUT_BATCH = env.bool("FANOUT_BATCH", default=True)
FANOUT_CHUNK_ACCOUNTS = env.int("FANOUT_CHUNK_ACCOUNTS", default=50)
FANOUT_LOGIN_CONCURRENCY = env.int("FANOUT_LOGIN_CONCURRENCY", default=10)
FANOUT_HTTP_THREADS = env.int("FANOUT_HTTP_THREADS", default=64)
for _name in ("FANOUT_CHUNK_ACCOUNTS", "FANOUT_LOGIN_CONCURRENCY", "FANOUT_HTTP_THREADS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, got {globals()[_name]}")
# The platform's safety ceiling: no entry order is larger than this many contracts, whatever
# a strategy, trader or alert says (refused with the reason). Per contract root:
# ORDER_QTY_CEILING_BY_ROOT="ES=50,MES=200". A bad value stops the process at start-up.
ORDER_QTY_CEILING = env.int("ORDER_QTY_CEILING", default=100)
if ORDER_QTY_CEILING < 1:
    raise ImproperlyConfigured(f"ORDER_QTY_CEILING must be at least 1, got {ORDER_QTY_CEILING}")
try:
    ORDER_QTY_CEILING_BY_ROOT = order_qty_ceilings_parse(
        env.str("ORDER_QTY_CEILING_BY_ROOT", default=""), known_roots=frozenset(CONTRACT_SPECS)
    )
except ValueError as _exc:
    raise ImproperlyConfigured(f"ORDER_QTY_CEILING_BY_ROOT: {_exc}") from None

# --- health -----------------------------------------------------------------------------------
# A heartbeat older than this many seconds counts as dead. Each component beats every ~10 s.
HEARTBEAT_MAX_AGE_SECONDS = env.int("HEARTBEAT_MAX_AGE_SECONDS", default=60)
# The processes /healthz requires (each writes a heartbeat: config/heartbeat.py).
HEALTH_REQUIRED_HEARTBEATS = env.list(
    "HEALTH_REQUIRED_HEARTBEATS", default=["worker", "beat", "streams"]
)

# --- DRF --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A Bearer API key first (so a refused key answers 401 with WWW-Authenticate), then the
    # browser's session (CSRF-checked) for pages that call the API.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.ApiKeyScopePermission",
    ],
    # Per key (per user for a session), counted in the Redis cache: reads and writes apart.
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.ApiReadThrottle",
        "api.throttling.ApiWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_read": env.str("API_READ_RATE", default="120/min"),
        "api_write": env.str("API_WRITE_RATE", default="30/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bracketeer API",
    "VERSION": "1",
    "DESCRIPTION": (
        "Your strategies, traders, accounts, signals, positions, fills, trades and copy "
        "groups, and the actions of the pages (send or preview an alert, switch a trader, "
        "close all).\n\n"
        "**Authentication**: create a key on Settings → API keys and send it as "
        "`Authorization: Bearer bk_…`. A *read* key may only read; a *trade* key may also "
        "change and act. A revoked or expired key answers 401.\n\n"
        '**Errors** always have the body `{"error": {"code", "message", "fields"}}`; '
        "another user's id answers 404, as a missing one.\n\n"
        "**Rate limits** per key: 120 reads and 30 writes a minute; over it, 429 with "
        "`Retry-After` (seconds).\n\n"
        "**Lists** are paginated: `page` and `page_size` (at most 200)."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar): works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response bodies as separate components (read-only fields not asked for).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SignalStatusEnum": "trading.models.Signal.Status",
        "OutcomeStatusEnum": "trading.models.SignalOutcome.Status",
        "OrderStateEnum": "trading.models_orders.Order.State",
        "BrokerConnectionStatusEnum": "accounts.models.BrokerConnection.Status",
        "DistanceUnitEnum": "trading.models.DISTANCE_UNIT_CHOICES",
    },
}

# --- HTTPS hardening: one switch for production behind TLS -------------------------------------
HTTPS = env.bool("DJANGO_HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is probed over plain HTTP inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp 4) ---------------------------------------------------
# Scripts and styles only from our own static files: no template has an inline script, an on*
# handler or a style attribute (tests/config/test_headers.py keeps it so). The one inline
# style is the <style> element the vendored chart library writes for its attribution logo,
# allowed by its hash (recomputed from the file by the tests: an upgrade must update it).
# Element styles set from JavaScript (CSSOM) are not governed by style-src. The live socket
# is same-origin: 'self' covers ws/wss of this host in CSP 3 browsers; SITE_URL's socket
# origin is named for the others. The API docs views relax it for themselves (config/csp.py).
CHART_ATTRIBUTION_STYLE_HASH = "'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='"
_SITE_SOCKET = SITE_URL.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", CHART_ATTRIBUTION_STYLE_HASH],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", _SITE_SOCKET],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- logging: every record passes the secret redactor --------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {
            "()": "config.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One INFO line per HTTP request to the broker is noise; failures are logged by us.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # uvicorn's access lines carry request paths (a webhook URL is a secret): they go
        # through our redacting handler instead of uvicorn's own.
        "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # uvicorn's other lines (errors with the request line, tracebacks) likewise.
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
