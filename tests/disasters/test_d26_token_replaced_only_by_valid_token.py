"""D26 — ``if refreshed:`` on an error dict overwrote valid tokens with garbage.

Invariant: a token is replaced only by a validated new token. When renewal fails (5xx, a
penalty, an answer without a token) the old token stays, still works, and the failure is
recorded in the broker's words.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BrokerConnection
from trading.brokers.base import BrokerError
from trading.brokers.services import broker_for, broker_token_ensure, broker_token_renew
from trading.brokers.tradovate.rest import token_from_answer

pytestmark = pytest.mark.django_db


def _due(connection: BrokerConnection) -> BrokerConnection:
    BrokerConnection.objects.filter(pk=connection.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=10)
    )
    connection.refresh_from_db()
    return connection


@pytest.mark.parametrize(
    "fault",
    [
        {"http_5xx": {"count": 3, "status": 503, "endpoints": ["auth/renewaccesstoken"]}},
        {
            "p_ticket": {
                "count": 3,
                "time": 1,
                "captcha": True,
                "endpoints": ["auth/renewaccesstoken"],
            }
        },
    ],
    ids=["server-error", "captcha-penalty"],
)
def test_a_failed_renewal_keeps_the_old_token(
    fault: dict[str, Any], sim_connection: BrokerConnection, sim: Any
) -> None:
    broker_token_ensure(connection=sim_connection)
    connection = _due(sim_connection)
    before = (connection.access_token_encrypted, connection.token_expires_at)
    sim.control.faults(**fault)
    assert broker_token_renew(connection=connection) is False
    connection.refresh_from_db()
    assert (connection.access_token_encrypted, connection.token_expires_at) == before
    assert connection.token_error != ""
    sim.control.faults(http_5xx={"count": 0}, p_ticket={"count": 0})
    from trading.brokers.cooldown import cooldown_clear
    from trading.brokers.services import connection_login_key

    cooldown_clear(login=connection_login_key(connection=connection))
    assert len(broker_for(connection=connection).accounts()) == 2  # the kept token still works


@pytest.mark.parametrize(
    "answer",
    [
        {"errorText": "Session expired"},
        {"accessToken": "", "expirationTime": "2030-01-01T00:00:00Z", "userId": 1},
        {"accessToken": "abc", "expirationTime": "not a time", "userId": 1},
        {"accessToken": "abc", "userId": 1},
        ["not", "a", "dict"],
    ],
)
def test_anything_but_a_complete_token_is_refused(answer: Any) -> None:
    with pytest.raises(BrokerError):  # an auth error or a shape error, never a stored token
        token_from_answer(answer, endpoint="auth/renewaccesstoken", user_id=1)
