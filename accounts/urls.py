from django.contrib.auth.views import LogoutView
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.BracketeerLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("connections/", views.ConnectionListView.as_view(), name="connection_list"),
    path("connections/<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
]
