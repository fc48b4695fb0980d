"""How the performance pages show money and ratios: ``{% load performance %}``.

- ``{{ net|money }}``: dollars with a sign and thousands, ``+$1,234.50`` / ``−$12.00``; ``—`` for
  None (a contract whose point value is unknown).
- ``{{ rate|percent }}``: a fraction as ``62.5%``.
- ``{{ pf|ratio }}``: a profit factor, ``∞`` when infinite.
- ``{{ hold|duration }}``: ``1h 05m``, ``3m 20s``.
- ``{{ net|pnl_class }}``: ``pnl-up`` / ``pnl-down`` / ``pnl-flat`` for colouring.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import template

from analytics.metrics import INFINITE
from analytics.presentation import WEEKDAYS

register = template.Library()

EMPTY = "—"


@register.filter
def money(value: Decimal | None) -> str:
    if value is None or value == "":
        return EMPTY
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "+" if amount > 0 else "−" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None or value == "":
        return EMPTY
    shown = (Decimal(value) * 100).quantize(Decimal("0.1"))
    return f"{shown}%"


@register.filter
def ratio(value: Decimal | None) -> str:
    if value is None or value == "":
        return EMPTY
    if value == INFINITE:
        return "∞"
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


@register.filter
def duration(value: timedelta | None) -> str:
    if value is None or value == "":
        return EMPTY
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


@register.filter
def pnl_class(value: Any) -> str:
    if value is None or value == "":
        return "pnl-flat"
    return "pnl-up" if value > 0 else "pnl-down" if value < 0 else "pnl-flat"


@register.filter
def weekday_name(index: int) -> str:
    return WEEKDAYS[index]
