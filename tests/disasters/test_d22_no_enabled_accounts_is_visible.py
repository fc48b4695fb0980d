"""D22 — a variable defined only in an else-branch: 0 accounts traded, silently.

Invariant: "no enabled accounts" is a visible outcome, not silence. (The possibly-undefined
half is test_d22_possibly_undefined_fails_ci.py.)
"""

from __future__ import annotations

import pytest

from tests.factories import StrategyFactory, TraderAccountFactory, TraderFactory
from tests.signals.helpers import send
from trading.models import Signal

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signal_with_no_enabled_account_says_so(member: object) -> None:
    strategy = StrategyFactory.create(user=member)
    TraderAccountFactory.create(
        trader=TraderFactory.create(strategy=strategy, user=member), enabled=False
    )
    signal = send(strategy, action="buy", ticker="MNQZ6")
    assert signal.status == Signal.Status.DONE
    assert signal.outcomes.count() == 0
    assert "No enabled trader account follows this strategy" in signal.rejection_reason
