"""The public API's routes: one router, so every endpoint is listed (and walked by the tests)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from rest_framework.routers import DefaultRouter

from api.views_accounts import BrokerConnectionViewSet

router = DefaultRouter()
router.include_format_suffixes = False  # one path per endpoint (no .json twins)
router.register("connections", BrokerConnectionViewSet, basename="connection")

urlpatterns = list(router.urls)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/: the API's 404 (JSON, the one error body), not a page."""
    body = {"error": {"code": "not_found", "message": "No such API endpoint.", "fields": {}}}
    return JsonResponse(body, status=404)


urlpatterns += [re_path(r"^(?P<rest>.*)$", not_found)]
