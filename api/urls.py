"""The public API's routes: one router, so every endpoint is listed (and walked by the tests)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from rest_framework.routers import DefaultRouter

from api.views_accounts import BrokerConnectionViewSet, TradingAccountViewSet
from api.views_activity import (
    FillViewSet,
    PositionViewSet,
    SignalViewSet,
    TradeViewSet,
    WorkingOrderViewSet,
)
from api.views_copy import CopyGroupViewSet, FollowerViewSet
from api.views_strategies import StrategyViewSet
from api.views_trader_accounts import TraderAccountViewSet
from api.views_traders import TraderViewSet

router = DefaultRouter()
router.include_format_suffixes = False  # one path per endpoint (no .json twins)
router.register("strategies", StrategyViewSet, basename="strategy")
router.register("traders", TraderViewSet, basename="trader")
router.register("trader-accounts", TraderAccountViewSet, basename="trader-account")
router.register("connections", BrokerConnectionViewSet, basename="connection")
router.register("accounts", TradingAccountViewSet, basename="trading-account")
router.register("signals", SignalViewSet, basename="signal")
router.register("positions", PositionViewSet, basename="position")
router.register("working-orders", WorkingOrderViewSet, basename="working-order")
router.register("fills", FillViewSet, basename="fill")
router.register("trades", TradeViewSet, basename="trade")
router.register("copy-groups", CopyGroupViewSet, basename="copy-group")
router.register("followers", FollowerViewSet, basename="follower")

urlpatterns = list(router.urls)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/: the API's 404 (JSON, the one error body), not a page."""
    body = {"error": {"code": "not_found", "message": "No such API endpoint.", "fields": {}}}
    return JsonResponse(body, status=404)


urlpatterns += [re_path(r"^(?P<rest>.*)$", not_found)]
