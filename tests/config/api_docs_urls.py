"""A URLconf for tests/config/test_headers.py: the API docs views wrapped as the API app must
wrap them (config/csp.py), next to a plain view."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.csp import csp_for_api_docs


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", csp_for_api_docs(SpectacularSwaggerView.as_view(url_name="schema"))),
    path("api/redoc/", csp_for_api_docs(SpectacularRedocView.as_view(url_name="schema"))),
    path("plain/", plain),
]
