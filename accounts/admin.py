from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import BrokerConnection, Subaccount, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "is_active", "is_staff", "date_joined")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("time_zone",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)


class SubaccountInline(admin.TabularInline):
    model = Subaccount
    extra = 0


@admin.register(BrokerConnection)
class BrokerConnectionAdmin(admin.ModelAdmin):
    """Secrets never appear: the encrypted fields are not editable, hence not in any form."""

    list_display = (
        "label",
        "user",
        "broker",
        "username",
        "status",
        "token_expires_at",
        "last_error",
        "archived_at",
    )
    list_filter = ("broker", "status", ("archived_at", admin.EmptyFieldListFilter))
    search_fields = ("label", "user__email", "username")
    readonly_fields = (
        "device_id",
        "broker_user_id",
        "token_expires_at",
        "token_renewed_at",
        "token_error",
        "last_error",
        "last_error_at",
        "created_at",
        "archived_at",
    )
    inlines = (SubaccountInline,)
