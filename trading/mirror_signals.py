"""What the mirror tells the rest of the product, without importing it (apps depend one way:
copytrade uses trading, so trading never imports copytrade)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit with ``fill_pk`` and ``subaccount_pk`` for each fill the mirror records for
# the first time (from a stream event or a snapshot). copytrade/apps.py connects the receiver.
fill_recorded = Signal()

# Sent by the streams process when it decides which broker logins to stream; each receiver
# returns the pks of subaccounts whose login must be streamed for it (copy trading: leaders and
# followers of enabled groups). copytrade/apps.py connects the receiver.
stream_accounts_wanted = Signal()

# Sent after commit with ``order_pks``: Order rows whose state, ids or prices the stream or a
# reconciliation changed (copy trading mirrors a leader's exits). copytrade/apps.py connects it.
orders_changed = Signal()

# Sent by the streams process (in a thread, at most once a second per contract and login) with
# ``position_pks``, ``high`` and ``low``: the highest and lowest last price quoted since the
# previous send for those open positions (analytics keeps each open trade's MFE/MAE from them).
prices_seen = Signal()
