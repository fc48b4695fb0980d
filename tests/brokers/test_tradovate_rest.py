"""The Tradovate REST client against the running simulator (no mocks)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import BrokerConnection
from trading.brokers.base import (
    BracketLeg,
    BracketRequest,
    BrokerAuthError,
    BrokerCaptchaRequired,
    BrokerRateLimited,
    BrokerRejected,
    BrokerTimeout,
    BrokerUnavailable,
    OrderRequest,
    OrderType,
    Side,
)
from trading.brokers.services import broker_for, broker_token_ensure

pytestmark = pytest.mark.django_db


def _market(
    side: Side,
    qty: int = 1,
    *,
    cl: str = "t-1",
    account: tuple[int, str] = (1001, "DEMO1001"),
    symbol: str = "MESZ6",
) -> OrderRequest:
    return OrderRequest(
        account_id=account[0],
        account_name=account[1],
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=OrderType.MARKET,
        cl_ord_id=cl,
    )


def test_login_stores_an_encrypted_token_and_lists_accounts(
    sim_connection: BrokerConnection,
) -> None:
    token = broker_token_ensure(connection=sim_connection)
    sim_connection.refresh_from_db()
    assert sim_connection.broker_user_id == 1
    assert token not in sim_connection.access_token_encrypted  # encrypted at rest
    broker = broker_for(connection=sim_connection)
    assert [(a.id, a.name) for a in broker.accounts()] == [(1001, "DEMO1001"), (1002, "DEMO1002")]


def test_a_stored_token_is_reused_not_requested_again(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker_token_ensure(connection=sim_connection)
    broker_token_ensure(connection=sim_connection)
    broker_for(connection=sim_connection).accounts()
    assert sim.control.counters()["requests"]["auth/accesstokenrequest"] == 1


def test_bad_credentials_raise_with_tradovates_words(sim_settings: Any, user: Any) -> None:
    from trading.brokers.services import broker_connection_create

    connection = broker_connection_create(
        user=user, label="Wrong", broker="simulator", username="demo", password="not-the-password"
    )
    with pytest.raises(BrokerAuthError) as error:
        broker_token_ensure(connection=connection)
    assert "Incorrect username or password" in str(error.value)
    connection.refresh_from_db()
    assert connection.access_token_encrypted == ""


def test_market_order_fills_and_the_position_reads_back(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    sim.control.set_price("MESZ6", "5000.25")
    broker = broker_for(connection=sim_connection)
    placed = broker.place_order(_market(Side.BUY, 2, cl="sig1-acc1-entry"))
    assert placed.order_id > 0
    (position,) = [p for p in broker.positions(account_id=1001) if p.net_pos != 0]
    assert (position.symbol, position.net_pos, position.net_price) == (
        "MESZ6",
        2,
        Decimal("5000.25"),
    )
    orders = sim.control.state()["orders"]
    assert orders[-1]["clOrdId"] == "sig1-acc1-entry"


def test_bracket_places_entry_take_profit_and_stop_as_working_exits(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    sim.control.set_price("MESZ6", "5000")
    broker = broker_for(connection=sim_connection)
    bracket = broker.place_bracket(
        BracketRequest(
            entry=_market(Side.BUY, 1, cl="b-1"),
            take_profit=BracketLeg(OrderType.LIMIT, price=Decimal("5010.00")),
            stop=BracketLeg(OrderType.STOP, stop_price=Decimal("4990.00")),
        )
    )
    assert bracket.take_profit_order_id is not None and bracket.stop_order_id is not None
    working = {o.order_id: o for o in broker.working_orders(account_id=1001)}
    tp, stop = working[bracket.take_profit_order_id], working[bracket.stop_order_id]
    assert (tp.side, tp.order_type, tp.price) == (Side.SELL, "Limit", Decimal("5010.00"))
    assert (stop.side, stop.order_type, stop.stop_price) == (Side.SELL, "Stop", Decimal("4990.00"))
    assert tp.oco_id is not None and tp.oco_id == stop.oco_id


def test_cancel_modify_and_flatten(sim_connection: BrokerConnection, sim: Any) -> None:
    sim.control.set_price("MESZ6", "5000")
    broker = broker_for(connection=sim_connection)
    limit = broker.place_order(
        OrderRequest(
            account_id=1001,
            account_name="DEMO1001",
            symbol="MESZ6",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.LIMIT,
            price=Decimal("4950.00"),
            cl_ord_id="lim-1",
        )
    )
    broker.modify_order(
        order_id=limit.order_id, qty=2, order_type=OrderType.LIMIT, price=Decimal("4955.00")
    )
    (working,) = broker.working_orders(account_id=1001)
    assert (working.qty, working.price) == (2, Decimal("4955.00"))
    broker.cancel_order(order_id=limit.order_id)
    assert broker.working_orders(account_id=1001) == []
    broker.place_order(_market(Side.SELL, 3, cl="short-1"))
    contract = broker.contract(name="MESZ6")
    broker.flatten(account_id=1001, contract_id=contract.id)
    assert all(p.net_pos == 0 for p in broker.positions(account_id=1001))


def test_an_off_tick_price_is_rejected_with_tradovates_reason(
    sim_connection: BrokerConnection,
) -> None:
    broker = broker_for(connection=sim_connection)
    with pytest.raises(BrokerRejected) as error:
        broker.place_order(
            OrderRequest(
                account_id=1001,
                account_name="DEMO1001",
                symbol="MESZ6",
                side=Side.BUY,
                qty=1,
                order_type=OrderType.LIMIT,
                price=Decimal("4950.10"),
                cl_ord_id="off-tick",
            )
        )
    assert error.value.failure_reason == "InvalidPrice"
    assert error.value.broker_text != ""


def test_a_business_rejection_carries_reason_and_text(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    sim.control.faults(
        reject_orders={
            "count": 1,
            "failureReason": "MaxPosLimitReached",
            "failureText": "Max position limit reached for DEMO1001",
        }
    )
    broker = broker_for(connection=sim_connection)
    with pytest.raises(BrokerRejected) as error:
        broker.place_order(_market(Side.BUY))
    assert error.value.failure_reason == "MaxPosLimitReached"
    assert "Max position limit reached for DEMO1001" in str(error.value)


def test_a_penalty_ticket_is_waited_out_and_resent(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker = broker_for(connection=sim_connection)
    sim.control.faults(
        p_ticket={"count": 1, "time": 1, "captcha": False, "endpoints": ["order/placeorder"]}
    )
    started = time.monotonic()
    placed = broker.place_order(_market(Side.BUY, cl="pt-1"))
    assert time.monotonic() - started >= 1.0
    assert placed.order_id > 0
    counters = sim.control.counters()
    assert counters["p_tickets_sent"] == 1
    assert counters["requests"]["order/placeorder"] == 2  # the original and the ticketed resend
    assert len([o for o in sim.control.state()["orders"] if o.get("clOrdId") == "pt-1"]) == 1


def test_a_captcha_ticket_stops_and_says_what_to_do(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker = broker_for(connection=sim_connection)
    sim.control.faults(p_ticket={"count": 5, "time": 1, "captcha": True})
    with pytest.raises(BrokerCaptchaRequired) as error:
        broker.accounts()
    assert "captcha" in str(error.value)
    with pytest.raises(BrokerRateLimited):  # the whole login now waits, without asking again
        broker.accounts()
    assert sim.control.counters()["p_tickets_sent"] == 1


def test_5xx_on_an_order_is_ambiguous_and_not_retried(
    sim_connection: BrokerConnection, sim: Any
) -> None:
    broker = broker_for(connection=sim_connection)
    sim.control.faults(http_5xx={"count": 1, "status": 503, "endpoints": ["order/placeorder"]})
    with pytest.raises(BrokerUnavailable) as error:
        broker.place_order(_market(Side.BUY))
    assert error.value.ambiguous is True and error.value.status_code == 503
    assert sim.control.counters()["requests"]["order/placeorder"] == 1


def test_5xx_on_a_read_is_retried(sim_connection: BrokerConnection, sim: Any) -> None:
    broker = broker_for(connection=sim_connection)
    sim.control.faults(http_5xx={"count": 2, "status": 502, "endpoints": ["account/list"]})
    assert len(broker.accounts()) == 2


def test_a_hanging_call_times_out_within_the_limit(
    sim_connection: BrokerConnection, sim: Any, settings: Any
) -> None:
    settings.TRADOVATE_TIMEOUT_SECONDS = 1.0
    broker = broker_for(connection=sim_connection)
    sim.control.faults(hang={"count": 1, "seconds": 20, "endpoints": ["order/placeorder"]})
    started = time.monotonic()
    with pytest.raises(BrokerTimeout) as error:
        broker.place_order(_market(Side.BUY))
    assert time.monotonic() - started < 3.0
    assert error.value.ambiguous is True


def test_an_expired_token_is_a_clear_auth_error(sim_connection: BrokerConnection, sim: Any) -> None:
    broker = broker_for(connection=sim_connection)
    sim.control.faults(expire_tokens=True)
    with pytest.raises(BrokerAuthError) as error:
        broker.accounts()
    assert "HTTP 401" in str(error.value)


def test_connection_without_credentials_is_named(sim_settings: Any, user: Any) -> None:
    connection = BrokerConnection.objects.create(user=user, label="Empty", broker="simulator")
    with pytest.raises(Exception) as error:
        broker_for(connection=connection)
    assert "Connection 'Empty' has no saved login" in str(error.value)
