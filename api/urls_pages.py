from django.urls import path

from api import views_keys

app_name = "api_keys"

urlpatterns = [
    path("", views_keys.api_keys, name="list"),
    path("<int:pk>/revoke/", views_keys.api_key_revoke_view, name="revoke"),
]
