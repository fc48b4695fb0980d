from django.urls import path  # noqa: F401  (the UI work adds its routes here)

app_name = "trading"

urlpatterns: list[object] = []
