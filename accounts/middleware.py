"""Every page shows times in the signed-in user's own time zone."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class UserTimeZoneMiddleware:
    """Activate ``request.user.time_zone`` for the request (UTC for visitors, or a zone name
    the system does not know), and deactivate it after, so no other request inherits it."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = getattr(user, "time_zone", "") if user is not None else ""
        timezone.deactivate()
        if zone_name:
            try:
                timezone.activate(ZoneInfo(zone_name))
            except (ZoneInfoNotFoundError, ValueError):
                pass  # a zone the system does not know: UTC, which the pages then name
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
