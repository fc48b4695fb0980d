"""Rate limits per API key (per user for the browser session), counted in the Redis cache.

Reads (GET, HEAD, OPTIONS) and writes/actions have separate budgets
(``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``: ``api_read``, ``api_write``). Over it: 429 with
``Retry-After`` and the error body.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiKey


class _ApiThrottle(SimpleRateThrottle):
    safe: bool
    cache = caches["default"]

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so a settings change applies.
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate = rates.get(str(self.scope))
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: Any) -> bool:
        if (request.method in SAFE_METHODS) != self.safe:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key{request.auth.pk}"
        elif request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            return None  # refused anyway (401)
        return f"throttle:{self.scope}:{ident}"


class ApiReadThrottle(_ApiThrottle):
    scope = "api_read"
    safe = True


class ApiWriteThrottle(_ApiThrottle):
    scope = "api_write"
    safe = False
