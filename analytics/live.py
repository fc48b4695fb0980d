"""Today's P&L on the owner's open dashboards follows each fill (the trades are rebuilt first)."""

from __future__ import annotations

import logging

from accounts.models import User
from analytics.selectors import today_pnl
from analytics.templatetags.performance import money, pnl_class
from trading.live import live_send

logger = logging.getLogger(__name__)


def today_pnl_publish(*, subaccount_pk: int) -> None:
    """Send the account owner's tabs a ``pnl`` frame: today's net P&L and closed trades in the
    owner's zone. Never raises (a lost frame is healed by the next page load)."""
    try:
        user = User.objects.filter(broker_connections__subaccounts=subaccount_pk).first()
        if user is None:
            return
        today = today_pnl(user=user)
        live_send(
            user_id=user.pk,
            payload={
                "kind": "pnl",
                "id": user.pk,  # every frame has a kind and an id
                "today_net": str(today.net),
                "today_net_text": money(today.net),
                "today_class": pnl_class(today.net),
                "today_trades": today.trades,
            },
        )
    except Exception:
        logger.exception("today's P&L of account %s not sent", subaccount_pk)
