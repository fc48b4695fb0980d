"""A follower's settings and a copy's numbers in the trader's words."""

from __future__ import annotations

from datetime import datetime

from django import template

from copytrade.models import Follower

register = template.Library()

EMPTY = "—"


@register.filter
def sizing_words(follower: Follower) -> str:
    """``× 2``, ``× -1 (inverse)``, ``fixed 3`` — how the follower's size follows the leader."""
    if follower.fixed_qty is not None:
        return f"fixed {follower.fixed_qty}"
    ratio = f"{follower.ratio.normalize():f}"
    return f"× {ratio} (inverse)" if follower.ratio < 0 else f"× {ratio}"


@register.filter
def mapping_words(mapping: dict[str, str] | None) -> str:
    """``NQ → MNQ, ES → MES``; ``as the leader`` without a mapping."""
    if not mapping:
        return "as the leader"
    return ", ".join(f"{leader} → {follower}" for leader, follower in sorted(mapping.items()))


@register.filter
def signed(value: int | None) -> str:
    """``+2`` / ``-1`` / ``0``; ``—`` when unknown."""
    if value is None:
        return EMPTY
    return f"{value:+d}" if value else "0"


@register.filter
def took_ms(end: datetime | None, start: datetime | None) -> str:
    """Milliseconds from ``start`` to ``end``: ``312 ms``; ``—`` while either is unknown."""
    if end is None or start is None:
        return EMPTY
    return f"{(end - start).total_seconds() * 1000:.0f} ms"
