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


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer to a logged-in request that does not set
    its own Cache-Control: pages and API answers carry account data, which neither the
    browser's cache (a shared computer's back button) nor a proxy may keep. Static files never
    get here (WhiteNoise answers them first, with its own caching); anonymous pages are left
    as they are.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Read after the view: DRF puts the user its own authentication found on the request.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
