from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts.views import BrokerConnectionViewSet
from analytics.views import dashboard
from config.health import healthz
from trading.webhooks import tradingview_webhook

router = DefaultRouter()
router.register("connections", BrokerConnectionViewSet, basename="connection")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False), name="home"),
    path("dashboard/", dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("trading/", include("trading.urls")),
    path("copy/", include("copytrade.urls")),
    path("performance/", include("analytics.urls")),
    path("", include("billing.urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("healthz", healthz, name="healthz"),
    path("webhooks/tradingview/<str:token>/", tradingview_webhook, name="tradingview_webhook"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Bracketeer support"
admin.site.site_title = "Bracketeer support"
