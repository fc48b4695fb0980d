"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SyncBoundaryMiddleware:
    """Runs the middleware chain in one thread hop instead of one per middleware method.

    Under ASGI, Django runs each dual-mode middleware's ``process_request`` and
    ``process_response`` through its own ``sync_to_async`` hop (about 30 per request here).
    A sync-only middleware at the innermost position makes Django adapt the whole chain to
    sync mode once. Measured on the 2-core machine (bench/asgi_servers.py, login page,
    sequential keep-alive): p50 12.2 ms before, see the closing note of the foundation issue
    for after. Our views are synchronous; an async view still works (adapted once).
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
