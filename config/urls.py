from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from analytics.views import dashboard
from config.csp import csp_for_api_docs
from config.health import healthz
from trading.webhooks import tradingview_webhook

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False), name="home"),
    path("dashboard/", dashboard, name="dashboard"),
    path("accounts/api-keys/", include("api.urls_pages")),
    path("accounts/", include("accounts.urls")),
    path("trading/", include("trading.urls")),
    path("copy/", include("copytrade.urls")),
    path("performance/", include("analytics.urls")),
    path("", include("billing.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        csp_for_api_docs(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_for_api_docs(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("api/", include("api.urls")),
    path("healthz", healthz, name="healthz"),
    path("webhooks/tradingview/<str:token>/", tradingview_webhook, name="tradingview_webhook"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Bracketeer support"
admin.site.site_title = "Bracketeer support"
