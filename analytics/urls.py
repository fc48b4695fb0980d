from django.urls import path

from analytics import views_execution as ex

app_name = "analytics"

urlpatterns = [
    path("execution/", ex.execution, name="execution"),
]
