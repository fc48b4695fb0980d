"""The Whop REST client: the only module of billing that speaks HTTP (tests/lint.py).

Every call has a timeout. A 429 is honoured: we wait ``retry-after`` seconds (capped) and try
again, a bounded number of times. The API key is sent as a Bearer token and never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from billing.schema import WhopPage, parse_page

logger = logging.getLogger(__name__)

MAX_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_SECONDS = 60.0
PAGE_SIZE = 50
MAX_PAGES = 1000  # a cursor that never ends is a bug at Whop or here: stop, loudly


class WhopApiError(Exception):
    """Whop answered with an error, or could not be reached. ``status`` is None for the latter."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class WhopClient:
    api_key: str
    base_url: str = field(default_factory=lambda: settings.WHOP_API_BASE_URL)
    timeout: float = field(default_factory=lambda: settings.WHOP_HTTP_TIMEOUT_SECONDS)
    sleep: Callable[[float], None] = time.sleep
    rate_limited: int = 0

    def _get(self, path: str, params: list[tuple[str, str | int | float | bool | None]]) -> Any:
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                response = httpx.get(url, params=params, headers=headers, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise WhopApiError(f"GET {path}: {type(exc).__name__}: {exc}") from exc
            if response.status_code == 429:
                self.rate_limited += 1
                wait = _retry_after(response.headers.get("retry-after"))
                if attempt == MAX_RATE_LIMIT_RETRIES:
                    break
                logger.warning("whop GET %s rate-limited (429): waiting %.1f s", path, wait)
                self.sleep(wait)
                continue
            if response.status_code == 401:
                raise WhopApiError(
                    "Whop rejected WHOP_API_KEY (401): is it complete and still valid?",
                    status=401,
                )
            if response.status_code >= 400:
                raise WhopApiError(
                    f"GET {path}: HTTP {response.status_code}: {response.text[:300]}",
                    status=response.status_code,
                )
            try:
                return response.json()
            except ValueError as exc:
                raise WhopApiError(
                    f"GET {path}: HTTP {response.status_code} but not JSON: {response.text[:200]!r}",
                    status=response.status_code,
                ) from exc
        raise WhopApiError(
            f"GET {path}: still rate-limited after {MAX_RATE_LIMIT_RETRIES} waits", status=429
        )

    def memberships_page(self, *, company_id: str, after: str | None) -> WhopPage:
        params: list[tuple[str, str | int | float | bool | None]] = [("first", PAGE_SIZE)]
        if company_id != "":
            params.append(("company_id", company_id))
        if after is not None:
            params.append(("after", after))
        return parse_page(self._get("memberships", params))

    def memberships_pages(self, *, company_id: str) -> Iterator[WhopPage]:
        """Every page, following ``end_cursor`` until a page is empty or says it is the last."""
        after: str | None = None
        for _ in range(MAX_PAGES):
            page = self.memberships_page(company_id=company_id, after=after)
            yield page
            if not page.memberships or page.end_cursor is None or page.has_next_page is False:
                return
            after = page.end_cursor
        raise WhopApiError(f"GET memberships: more than {MAX_PAGES} pages; cursor loop?")

    def verify_api_key(self, *, company_id: str) -> None:
        """One cheap authenticated call; raises ``WhopApiError`` (status 401 for a bad key)."""
        self._get("memberships", [("first", 1), ("company_id", company_id)])


def _retry_after(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        return 5.0  # an HTTP date: rare at Whop; a short fixed wait is safe
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
