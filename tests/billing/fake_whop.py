"""A fake Whop REST API on 127.0.0.1: real HTTP, real cursor pagination, scripted faults.

Started by the tests (``fake_whop`` fixture); the app reaches it through WHOP_API_BASE_URL,
exactly as it reaches Whop. Faults: a 429 with ``retry-after`` before a given page, a 401 for
a wrong key, and any raw JSON in place of a page (a changed response shape).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

API_KEY = "apik_" + "F" * 40


@dataclass
class FakeWhop:
    memberships: list[dict[str, Any]] = field(default_factory=list)
    page_size_cap: int = 2  # small pages: every test that syncs pages for real
    rate_limit_before_page: dict[int, float] = field(default_factory=dict)  # page -> retry-after
    raw_pages: dict[int, Any] = field(default_factory=dict)  # page -> JSON to answer instead
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(
        self, path: str, query: dict[str, list[str]], auth: str
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append({"path": path, "query": query, "auth_ok": auth == f"Bearer {API_KEY}"})
        if auth != f"Bearer {API_KEY}":
            return 401, {}, {"error": {"message": "Invalid API key"}}
        if path != "/api/v1/memberships":
            return 404, {}, {"error": "not found"}
        first = min(int(query.get("first", ["10"])[0]), self.page_size_cap)
        after = query.get("after", [None])[0]
        start = int(after.removeprefix("cur_")) if after else 0
        page_number = start // self.page_size_cap + 1
        retry_after = self.rate_limit_before_page.pop(page_number, None)
        if retry_after is not None:
            return 429, {"retry-after": str(retry_after)}, {"error": "rate limited"}
        if page_number in self.raw_pages:
            return 200, {}, self.raw_pages[page_number]
        chunk = self.memberships[start : start + first]
        end = start + len(chunk)
        return (
            200,
            {},
            {
                "data": chunk,
                "page_info": {
                    "end_cursor": f"cur_{end}" if chunk else None,
                    "has_next_page": end < len(self.memberships),
                },
            },
        )


def _handler(fake: FakeWhop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            status, headers, payload = fake.answer(
                parsed.path, parse_qs(parsed.query), self.headers.get("Authorization", "")
            )
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(settings: Any) -> Iterator[FakeWhop]:
    """Run a FakeWhop and point the app's settings at it."""
    fake = FakeWhop()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    settings.WHOP_API_BASE_URL = fake.url
    settings.WHOP_API_KEY = API_KEY
    settings.WHOP_COMPANY_ID = "biz_test"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_whop(settings: Any) -> Iterator[FakeWhop]:
    with serve(settings) as fake:
        yield fake
