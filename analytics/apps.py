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
    """A new fill: the trades of its account and contract are built again (live trades)."""
    from analytics.services import trades_rebuild
    from trading.models import Fill

    fill = Fill.objects.filter(pk=fill_pk).only("subaccount_id", "contract_id").first()
    if fill is None:
        return 0
    return trades_rebuild(subaccount_pk=fill.subaccount_id, contract_id=fill.contract_id)


def _prices_seen(
    sender: Any, *, position_pks: tuple[int, ...], high: Decimal, low: Decimal, **_: Any
) -> int:
    """Quotes seen for open positions: their open trades' running high/low and MFE/MAE."""
    from analytics.services import excursion_record

    return excursion_record(position_pks=position_pks, high=high, low=low)
