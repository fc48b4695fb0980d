from django.urls import path

from trading import views_archive as a
from trading import views_control as c
from trading import views_signals as sig
from trading import views_ui as v

app_name = "trading"

urlpatterns = [
    path("strategies/", v.strategy_list, name="strategy_list"),
    path("strategies/new/", v.strategy_create, name="strategy_create"),
    path("strategies/<int:pk>/", v.strategy_detail, name="strategy_detail"),
    path("strategies/<int:pk>/edit/", v.strategy_edit, name="strategy_edit"),
    path("strategies/<int:pk>/test-alert/", v.strategy_test_alert, name="strategy_test_alert"),
    path("strategies/<int:pk>/preview/", v.strategy_preview, name="strategy_preview"),
    path("strategies/<int:pk>/archive/", a.strategy_archive, name="strategy_archive"),
    path("strategies/<int:pk>/restore/", a.strategy_restore, name="strategy_restore"),
    path("traders/", v.trader_list, name="trader_list"),
    path("traders/new/", v.trader_create, name="trader_create"),
    path("traders/<int:pk>/", v.trader_detail, name="trader_detail"),
    path("traders/<int:pk>/edit/", v.trader_edit, name="trader_edit"),
    path("traders/<int:pk>/archive/", a.trader_archive, name="trader_archive"),
    path("traders/<int:pk>/restore/", a.trader_restore, name="trader_restore"),
    path("traders/<int:pk>/accounts/add/", v.trader_account_add, name="trader_account_add"),
    path("trader-accounts/<int:pk>/", v.trader_account_edit, name="trader_account_edit"),
    path("trader-accounts/<int:pk>/remove/", v.trader_account_remove, name="trader_account_remove"),
    path("signals/", sig.signal_list, name="signal_list"),
    path("signals/<int:pk>/", sig.signal_detail, name="signal_detail"),
    path("signals/<int:pk>/live/", sig.signal_live, name="signal_live"),
    path("control/", c.control_centre, name="control"),
    path("control/traders/<int:pk>/toggle/", c.trader_toggle, name="trader_toggle"),
    path("control/traders/<int:pk>/close/", c.trader_close, name="trader_close"),
    path("control/accounts/<int:pk>/close/", c.account_close, name="account_close"),
    path("control/traders/<int:pk>/state/", c.trader_close_state, name="trader_close_state"),
    path("control/accounts/<int:pk>/state/", c.account_close_state, name="account_close_state"),
]
