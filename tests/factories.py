from __future__ import annotations

import factory

from accounts.models import BrokerConnection, Subaccount, User
from trading.models import Strategy, Trader, TraderAccount

TEST_PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"trader{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


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
