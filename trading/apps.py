from typing import Any

from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from billing.signals import trading_paused

        trading_paused.connect(_traders_disable, dispatch_uid="trading.traders_disable")


def _traders_disable(sender: Any, *, user: Any, reason: str, **_: Any) -> int:
    """Billing paused ``user``'s trading: every enabled trader off, saying why."""
    from trading.services import traders_disable_for_user

    return traders_disable_for_user(user=user, reason=reason)
