from __future__ import annotations

from decimal import Decimal
from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import BrokerConnection, Subaccount, User
from trading.models import (
    CashBalance,
    Fill,
    Order,
    Position,
    Signal,
    SignalOutcome,
    Strategy,
    Trader,
    TraderAccount,
)

TEST_PASSWORD = "a-long-test-password-42"


@cache
def hashed_test_password() -> str:
    """TEST_PASSWORD hashed once by the configured hasher (a real hash: logging in with the
    password checks it as for any user). Hashing it again for every user cost ~0.35 s of CPU
    per user (PBKDF2, 1,000,000 iterations), in most tests of the suite."""
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"trader{n}@example.com")
    password = factory.LazyFunction(hashed_test_password)


class BrokerConnectionFactory(factory.django.DjangoModelFactory[BrokerConnection]):
    class Meta:
        model = BrokerConnection

    user = factory.SubFactory(UserFactory)
    label = factory.Sequence(lambda n: f"Paper {n}")
    broker = BrokerConnection.Broker.SIMULATOR


class SubaccountFactory(factory.django.DjangoModelFactory[Subaccount]):
    class Meta:
        model = Subaccount

    connection = factory.SubFactory(BrokerConnectionFactory)
    broker_account_id = factory.Sequence(lambda n: 100000 + n)
    name = factory.Sequence(lambda n: f"SIM{n:05d}")


class StrategyFactory(factory.django.DjangoModelFactory[Strategy]):
    class Meta:
        model = Strategy

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Strategy {n}")


class TraderFactory(factory.django.DjangoModelFactory[Trader]):
    class Meta:
        model = Trader

    user = factory.SelfAttribute("strategy.user")
    strategy = factory.SubFactory(StrategyFactory)
    name = factory.Sequence(lambda n: f"Trader {n}")


class TraderAccountFactory(factory.django.DjangoModelFactory[TraderAccount]):
    class Meta:
        model = TraderAccount

    trader = factory.SubFactory(TraderFactory)
    subaccount = factory.SubFactory(SubaccountFactory)


# --- signals and the broker mirror (issue 10) -------------------------------------------------


class SignalFactory(factory.django.DjangoModelFactory[Signal]):
    class Meta:
        model = Signal

    strategy = factory.SubFactory(StrategyFactory)
    idempotency_key = factory.Sequence(lambda n: f"test-signal-{n}")
    raw_body = '{"action": "buy", "ticker": "MNQ1!"}'
    content_type = "application/json"
    action = "buy"
    symbol = "MNQZ6"
    status = Signal.Status.DONE


class SignalOutcomeFactory(factory.django.DjangoModelFactory[SignalOutcome]):
    """An outcome of ``trader_account`` (pass one; its strategy's signal by default)."""

    class Meta:
        model = SignalOutcome

    trader_account = factory.SubFactory(TraderAccountFactory)
    signal = factory.SubFactory(
        SignalFactory, strategy=factory.SelfAttribute("..trader_account.trader.strategy")
    )
    subaccount = factory.SelfAttribute("trader_account.subaccount")
    symbol = "MNQZ6"
    status = SignalOutcome.Status.DONE


class PositionFactory(factory.django.DjangoModelFactory[Position]):
    class Meta:
        model = Position

    subaccount = factory.SubFactory(SubaccountFactory)
    contract_id = factory.Sequence(lambda n: 4000 + n)
    symbol = "MNQZ6"
    net_pos = 1
    net_price = Decimal("21000.25")
    bought = 1
    realized_pnl = Decimal("0")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    subaccount = factory.SubFactory(SubaccountFactory)
    cl_ord_id = factory.Sequence(lambda n: f"test-order-{n}")
    broker_order_id = factory.Sequence(lambda n: 90000 + n)
    symbol = "MNQZ6"
    side = "Sell"
    qty = 1
    order_type = "Limit"
    price = Decimal("21010.00")
    role = Order.Role.TAKE_PROFIT
    state = Order.State.WORKING


class FillFactory(factory.django.DjangoModelFactory[Fill]):
    class Meta:
        model = Fill

    subaccount = factory.SubFactory(SubaccountFactory)
    broker_fill_id = factory.Sequence(lambda n: 70000 + n)
    broker_order_id = factory.Sequence(lambda n: 80000 + n)
    contract_id = 4000
    symbol = "MNQZ6"
    side = "Buy"
    qty = 1
    price = Decimal("21000.25")
    filled_at = factory.LazyFunction(timezone.now)


class CashBalanceFactory(factory.django.DjangoModelFactory[CashBalance]):
    class Meta:
        model = CashBalance

    subaccount = factory.SubFactory(SubaccountFactory)
    amount = Decimal("50000.00")
    realized_pnl = Decimal("0")
