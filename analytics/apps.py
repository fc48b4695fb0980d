from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Trades and performance"

    def ready(self) -> None:
        from trading.mirror_signals import fill_recorded, prices_seen

        fill_recorded.connect(_fill_recorded, dispatch_uid="analytics.trades_follow")
        prices_seen.connect(_prices_seen, dispatch_uid="analytics.excursions_follow")


def _fill_recorded(sender: Any, *, fill_pk: int, subaccount_pk: int, **_: Any) -> int:
    """A new fill: the trades of its account and contract follow it (live trades), and the
    owner's open dashboards get today's P&L."""
    from analytics.live import today_pnl_publish
    from analytics.services import trades_follow_fill

    written = trades_follow_fill(fill_pk=fill_pk)
    today_pnl_publish(subaccount_pk=subaccount_pk)
    return written


def _prices_seen(
    sender: Any, *, position_pks: tuple[int, ...], high: Decimal, low: Decimal, **_: Any
) -> int:
    """Quotes seen for open positions: their open trades' running high/low and MFE/MAE."""
    from analytics.services import excursion_record

    return excursion_record(position_pks=position_pks, high=high, low=low)
