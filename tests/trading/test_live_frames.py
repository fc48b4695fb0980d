"""The live channel's frames: the snapshot selector, the builders, and publishing mirror changes.

Real PostgreSQL rows (tests/factories.py) and the real Redis channel layer: a test channel joins
the user's group and reads what ``mirror_changes_publish`` sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from config.redis import redis_client, redis_key
from tests.factories import (
    BrokerConnectionFactory,
    CashBalanceFactory,
    FillFactory,
    OrderFactory,
    PositionFactory,
    SignalOutcomeFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
)
from tests.trading.live_helpers import GroupListener
from trading.last_prices import LAST_PRICE_TTL_SECONDS, last_price_store
from trading.live_frames import (
    mirror_changes_publish,
    money_text,
    open_pnl,
    order_frame,
    position_frame,
    position_last_price,
)
from trading.models import Order, Position
from trading.selectors import live_snapshot

pytestmark = pytest.mark.django_db


def _accounts(user: User, names: tuple[str, ...] = ("DEMO1001", "DEMO1002")) -> list[Any]:
    conn = BrokerConnectionFactory.create(user=user, label="Paper")
    return [
        SubaccountFactory.create(connection=conn, name=name, broker_account_id=1001 + i)
        for i, name in enumerate(names)
    ]


# --- the builders -----------------------------------------------------------------------------


def test_position_frame_says_side_prices_and_pnl_in_words(user: User) -> None:
    sub = _accounts(user)[0]
    position = PositionFactory.create(
        subaccount=sub,
        contract_id=4242,
        symbol="MNQZ6",
        net_pos=-2,
        net_price=Decimal("21000.25000000"),
        realized_pnl=Decimal("-37.50"),
    )
    frame = position_frame(position, last_price=Decimal("20990.25"))
    assert frame == {
        "kind": "position",
        "id": position.pk,
        "account": {
            "id": sub.pk,
            "name": "DEMO1001",
            "number": 1001,
            "connection": "Paper",
            "close_url": f"/trading/control/accounts/{sub.pk}/close/",
        },
        "contract_id": 4242,
        "symbol": "MNQZ6",
        "net_pos": -2,
        "net_pos_text": "short 2",
        "net_price": "21000.25",
        "net_price_text": "21000.25",
        "realized_pnl": "-37.5",
        "realized_pnl_text": "-$37.50",
        "last_price": "20990.25",
        # Short 2 MNQ ($2 a point) from 21000.25, now 20990.25: 10 points x 2 x $2 won.
        "open_pnl": "40",
        "open_pnl_text": "+$40.00",
        "flat": False,
        "problem": "",
        "close_url": f"/trading/control/accounts/{sub.pk}/close/?contract=4242",
        "updated_at": position.updated_at.isoformat(),
    }


def test_open_pnl_is_unknown_without_a_last_price_or_a_known_contract(user: User) -> None:
    sub = _accounts(user)[0]
    long_es = PositionFactory.create(
        subaccount=sub, symbol="ESZ6", net_pos=3, net_price=Decimal("6000.00")
    )
    assert open_pnl(position=long_es, last_price=Decimal("6001.25")) == Decimal("187.50")
    assert open_pnl(position=long_es, last_price=None) is None
    unknown = PositionFactory.build(subaccount=sub, symbol="ZZZZ9", net_pos=1)
    assert open_pnl(position=unknown, last_price=Decimal("1")) is None
    assert position_frame(long_es)["open_pnl_text"] == "—"
    assert (money_text(Decimal("1250")), money_text(Decimal(0))) == ("+$1,250.00", "$0.00")


def test_order_frame_names_role_state_fill_and_signal(user: User) -> None:
    sub = _accounts(user)[0]
    outcome = SignalOutcomeFactory.create(
        trader_account=TraderAccountFactory.create(
            trader=TraderFactory.create(strategy__user=user), subaccount=sub
        )
    )
    order = OrderFactory.create(
        subaccount=sub,
        signal=outcome.signal,
        outcome=outcome,
        role=Order.Role.STOP,
        side="Sell",
        qty=2,
        order_type="Stop",
        price=None,
        stop_price=Decimal("20990.00000000"),
        state=Order.State.PARTIALLY_FILLED,
        filled_qty=1,
        avg_fill_price=Decimal("20989.75000000"),
    )
    frame = order_frame(order)
    assert {k: v for k, v in frame.items() if k != "account"} == {
        "kind": "order",
        "id": order.pk,
        "symbol": "MNQZ6",
        "role": "stop",
        "role_text": "Stop",
        "side": "Sell",
        "qty": 2,
        "order_type": "Stop",
        "price": None,
        "price_text": "—",
        "stop_price": "20990",
        "stop_price_text": "20990.00",
        "state": "partially_filled",
        "state_text": "Partly filled",
        "filled_qty": 1,
        "avg_fill_price": "20989.75",
        "avg_fill_price_text": "20989.75",
        "signal_id": outcome.signal_id,
        "signal_url": f"/trading/signals/{outcome.signal_id}/",
        "outcome_id": outcome.pk,
        "external": False,
        "open": True,
    }
    assert frame["account"]["id"] == sub.pk
    order.state = Order.State.FILLED
    assert order_frame(order)["open"] is False


# --- the snapshot -----------------------------------------------------------------------------


def test_snapshot_holds_each_account_s_open_positions_working_orders_and_cash(
    user: User, other_user: User
) -> None:
    one, two = _accounts(user)
    long_mnq = PositionFactory.create(subaccount=one, symbol="MNQZ6", net_pos=2)
    PositionFactory.create(subaccount=one, symbol="MESZ6", net_pos=0)  # flat: not shown
    short_es = PositionFactory.create(subaccount=two, symbol="ESZ6", net_pos=-1)
    take_profit = OrderFactory.create(subaccount=one, state=Order.State.WORKING)
    cancelling = OrderFactory.create(subaccount=two, state=Order.State.CANCEL_PENDING)
    for state in (Order.State.FILLED, Order.State.CANCELLED, Order.State.SUBMITTED):
        OrderFactory.create(subaccount=one, state=state)  # not working at the broker
    CashBalanceFactory.create(
        subaccount=one, amount=Decimal("50123.40"), realized_pnl=Decimal("12.50")
    )
    # Someone else's account, and an account of a deleted connection: never in the snapshot.
    foreign = _accounts(other_user, ("THEIRS",))[0]
    PositionFactory.create(subaccount=foreign, net_pos=5)
    OrderFactory.create(subaccount=foreign)
    gone = BrokerConnectionFactory.create(user=user, label="Old", archived_at=timezone.now())
    PositionFactory.create(subaccount=SubaccountFactory.create(connection=gone), net_pos=1)

    snapshot = live_snapshot(user=user)

    assert snapshot["type"] == "snapshot"
    assert [a["account"]["name"] for a in snapshot["accounts"]] == ["DEMO1001", "DEMO1002"]
    first, second = snapshot["accounts"]
    assert first["positions"] == [position_frame(long_mnq)]
    assert first["orders"] == [order_frame(take_profit)]
    assert first["cash"] == {
        "amount": "50123.4",
        "amount_text": "$50,123.40",
        "realized_pnl": "12.5",
        "realized_pnl_text": "+$12.50",
    }
    assert second["positions"] == [position_frame(short_es)]
    assert second["orders"] == [order_frame(cancelling)]
    assert second["cash"] is None
    assert live_snapshot(user=other_user)["accounts"][0]["account"]["name"] == "THEIRS"


def test_snapshot_costs_three_queries_for_any_number_of_accounts(user: User) -> None:
    for sub in _accounts(user, tuple(f"ACC{i}" for i in range(12))):
        PositionFactory.create(subaccount=sub)
        OrderFactory.create(subaccount=sub)
        CashBalanceFactory.create(subaccount=sub)
    with CaptureQueriesContext(connection) as queries:
        snapshot = live_snapshot(user=user)
    assert len(snapshot["accounts"]) == 12
    assert len(queries) == 3


# --- publishing -------------------------------------------------------------------------------


def test_publish_sends_one_frame_per_row_of_the_user_and_none_of_another(
    user: User, other_user: User
) -> None:
    sub = _accounts(user)[0]
    position = PositionFactory.create(subaccount=sub, net_pos=1)
    order = OrderFactory.create(subaccount=sub)
    fill = FillFactory.create(
        subaccount=sub, order=order, filled_at=datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
    )
    outcome = SignalOutcomeFactory.create(
        trader_account=TraderAccountFactory.create(
            trader=TraderFactory.create(strategy__user=user), subaccount=sub
        )
    )
    foreign_sub = _accounts(other_user, ("THEIRS",))[0]
    foreign_position = PositionFactory.create(subaccount=foreign_sub, net_pos=7)
    foreign_order = OrderFactory.create(subaccount=foreign_sub)
    mine, theirs = GroupListener(user.pk), GroupListener(other_user.pk)

    mirror_changes_publish(
        user_id=user.pk,
        position_pks=[position.pk, foreign_position.pk],
        order_pks=(order.pk, foreign_order.pk),
        fill_pks={fill.pk},
        outcome_pks=[outcome.pk, outcome.pk],
    )

    frames = mine.frames()
    assert [(f["kind"], f["id"]) for f in frames] == [
        ("position", position.pk),
        ("order", order.pk),
        ("fill", fill.pk),
        ("outcome", outcome.pk),
    ]
    assert frames[0] == position_frame(position)
    assert frames[2]["price_text"] == "21000.25"
    assert frames[2]["filled_at"] == "2026-12-07T14:30:00+00:00"
    assert frames[3]["status_text"] == "Done"
    assert frames[3]["signal_id"] == outcome.signal_id
    assert theirs.frames(wait=0.3) == []


def test_publish_reads_the_committed_row_not_what_it_was_told(user: User) -> None:
    sub = _accounts(user)[0]
    position = PositionFactory.create(subaccount=sub, net_pos=2)
    Position.objects.filter(pk=position.pk).update(net_pos=0)  # flattened since
    listener = GroupListener(user.pk)
    mirror_changes_publish(user_id=user.pk, position_pks=[position.pk])
    (frame,) = listener.frames()
    assert (frame["net_pos"], frame["net_pos_text"], frame["flat"]) == (0, "flat", True)


def test_publish_never_raises_and_says_why_nothing_was_sent(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    listener = GroupListener(user.pk)
    with caplog.at_level(logging.ERROR, logger="trading.live_frames"):
        mirror_changes_publish(user_id=user.pk, order_pks=["not-a-number"])  # type: ignore[list-item]
    assert listener.frames(wait=0.3) == []
    assert f"live frames of user {user.pk} not sent" in caplog.text


def test_publish_with_nothing_changed_reads_nothing(user: User) -> None:
    with CaptureQueriesContext(connection) as queries:
        mirror_changes_publish(user_id=user.pk)
    assert len(queries) == 0


# --- last prices (open P&L) and problems ------------------------------------------------------


def test_a_stored_last_price_gives_open_pnl_to_that_login_s_positions_only(
    user: User, other_user: User
) -> None:
    sub = _accounts(user)[0]
    long_mnq = PositionFactory.create(
        subaccount=sub, contract_id=77, net_pos=1, net_price=Decimal("18000")
    )
    # The same contract id on another login (another environment: another contract).
    elsewhere = PositionFactory.create(
        subaccount=_accounts(other_user, ("THEIRS",))[0], contract_id=77, net_pos=1
    )
    listener = GroupListener(user.pk)
    last_price_store(connection_pk=sub.connection_id, contract_id=77, price=Decimal("18002.00"))

    (account, _other) = live_snapshot(user=user)["accounts"]
    assert account["positions"][0]["open_pnl_text"] == "+$4.00"  # 2 points x 1 x $2
    mirror_changes_publish(user_id=user.pk, position_pks=[long_mnq.pk])
    (frame,) = listener.frames()
    assert (frame["last_price"], frame["open_pnl"], frame["open_pnl_text"]) == (
        "18002",
        "4",
        "+$4.00",
    )
    assert position_last_price(position=elsewhere) is None
    key = redis_key("last-price", sub.connection_id, 77)
    assert 0 < redis_client().ttl(key) <= LAST_PRICE_TTL_SECONDS  # a dead feed shows "—"
    redis_client().delete(key)
    assert live_snapshot(user=user)["accounts"][0]["positions"][0]["open_pnl_text"] == "—"


def test_an_unreadable_stored_price_is_no_price(user: User) -> None:
    position = PositionFactory.create(subaccount=_accounts(user)[0], contract_id=78)
    redis_client().set(redis_key("last-price", position.subaccount.connection_id, 78), "junk")
    assert position_last_price(position=position) is None


def test_a_position_frame_says_what_reconciliation_found_wrong(user: User) -> None:
    words = "No stop at the broker: the stop placed by signal #7 was cancelled at 14:30:00 UTC."
    position = PositionFactory.create(subaccount=_accounts(user)[0], problem=words)
    assert position_frame(position)["problem"] == words
    assert live_snapshot(user=user)["accounts"][0]["positions"][0]["problem"] == words


@pytest.mark.django_db(transaction=True)
def test_a_cash_balance_change_reaches_the_open_pages(user: User, other_user: User) -> None:
    """The stream's cashBalance (a fill settled) updates the account's balance on the open
    pages (it was only on the next snapshot): one frame, to its owner only."""
    from trading.brokers.tradovate.ws import StreamEvent
    from trading.mirror import mirror_apply

    sub = _accounts(user)[0]
    mine, theirs = GroupListener(user.pk), GroupListener(other_user.pk)
    mirror_apply(
        connection_pk=sub.connection_id,
        event=StreamEvent(
            entity_type="cashBalance",
            event_type="Updated",
            entity={"accountId": 1001, "amount": 50123.5, "realizedPnL": -12.25},
        ),
    )
    (frame,) = mine.frames()
    assert (frame["kind"], frame["account"]["id"]) == ("cash", sub.pk)
    assert (frame["amount_text"], frame["realized_pnl_text"]) == ("$50,123.50", "-$12.25")
    assert theirs.frames(wait=0.3) == []
