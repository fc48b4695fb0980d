"""Trades for the support desk: read-only (they are rebuilt from fills, never edited)."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import Trade
from billing.admin import ReadOnlyAdminMixin


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "opened_at",
        "subaccount",
        "symbol",
        "direction",
        "max_qty",
        "net_pnl",
        "closed_at",
    )
    list_filter = ("symbol",)
    search_fields = ("subaccount__connection__user__email", "subaccount__name", "symbol")
    list_select_related = ("subaccount",)
    readonly_fields = [f.name for f in Trade._meta.fields]
    exclude = ("fills", "signals")
