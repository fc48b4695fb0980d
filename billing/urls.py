from django.contrib.auth import views as auth_views
from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("webhooks/whop/", views.whop_webhook, name="whop_webhook"),
    path("billing/", views.overview, name="overview"),
    path("accounts/activate/resend/", views.activation_resend, name="activation_resend"),
    path("accounts/activate/<str:token>/", views.activate, name="activate"),
    path(
        "accounts/password-reset/",
        views.BillingPasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="billing/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        views.BillingPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="billing/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
