from __future__ import annotations

from django.urls import path

from analytics import views_execution as ex
from analytics import views_trades as t

app_name = "analytics"

urlpatterns = [
    path("trades/", t.trade_list, name="trade_list"),
    path("trades/<int:pk>/", t.trade_detail, name="trade_detail"),
    path("fees/", t.fee_rate_save, name="fee_rate_save"),
    path("execution/", ex.execution, name="execution"),
]
