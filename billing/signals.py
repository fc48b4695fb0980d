"""What billing tells the rest of the product, without importing it (apps depend one way:
trading uses billing's limits, so billing never imports trading)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``user`` and ``reason`` when a user's trading is paused (membership ended). Each
# receiver returns how many things it switched off. trading/apps.py connects the receiver.
trading_paused = Signal()
