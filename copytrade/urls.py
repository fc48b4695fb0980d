from django.urls import path

from copytrade import views as v

app_name = "copytrade"

urlpatterns = [
    path("", v.group_list, name="group_list"),
    path("new/", v.group_create, name="group_create"),
    path("<int:pk>/", v.group_detail, name="group_detail"),
    path("<int:pk>/live/", v.group_live, name="group_live"),
    path("<int:pk>/toggle/", v.group_toggle, name="group_toggle"),
    path("<int:pk>/trade/", v.leader_trade, name="leader_trade"),
    path("<int:pk>/followers/add/", v.follower_add, name="follower_add"),
    path("<int:pk>/log/", v.copy_log, name="copy_log"),
    path("<int:pk>/log/live/", v.copy_log_live, name="copy_log_live"),
    path("followers/<int:pk>/", v.follower_edit, name="follower_edit"),
    path("followers/<int:pk>/remove/", v.follower_remove, name="follower_remove"),
    path("followers/<int:pk>/resync/", v.follower_resync, name="follower_resync"),
    path("followers/<int:pk>/rearm/", v.follower_rearm, name="follower_rearm"),
]
