"""Archiving strategies and traders: what stops (read), and the archive itself (write).

Nothing is deleted: a Strategy's signals cascade from it and a Trader's outcomes from its
accounts, and that history must survive. An archived strategy is switched off and its webhook
stores nothing (``trading.webhooks.webhook_accept`` answers 410); an archived trader is
switched off (execution acts only on enabled traders). Both leave every list; a restore brings
them back switched off, for the user to switch on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from trading.models import Strategy, Trader, TraderAccount


@dataclass(frozen=True)
class StrategyStops:
    """What archiving one strategy stops."""

    own_traders: list[Trader]  # the owner's traders on it (with ``account_names``)
    subscriber_traders: int  # other users' traders following it (public strategy)
    subscriber_accounts: int  # their enabled trading accounts
    subscribers: int  # how many other users


@dataclass(frozen=True)
class TraderStops:
    """What archiving one trader stops."""

    accounts: list[TraderAccount]


def strategy_archive_stops(*, strategy: Strategy) -> StrategyStops:
    """The owner's traders (with the accounts they are on) and the subscribers' traders that
    stop receiving this strategy's alerts once it is archived. Archived traders are left out."""
    followers = Trader.objects.filter(strategy=strategy, archived_at__isnull=True)
    own = list(
        followers.filter(user_id=strategy.user_id)
        .prefetch_related("accounts__subaccount")
        .order_by("name", "id")
    )
    for trader in own:
        trader.account_names = [a.subaccount.name for a in trader.accounts.all()]  # type: ignore[attr-defined]
    others = followers.exclude(user_id=strategy.user_id).aggregate(
        traders=Count("id", distinct=True),
        users=Count("user", distinct=True),
        accounts=Count("accounts", filter=Q(accounts__enabled=True), distinct=True),
    )
    return StrategyStops(
        own_traders=own,
        subscriber_traders=others["traders"],
        subscriber_accounts=others["accounts"],
        subscribers=others["users"],
    )


def trader_archive_stops(*, trader: Trader) -> TraderStops:
    """The trading accounts this trader acts on (and stops acting on once archived)."""
    return TraderStops(
        accounts=list(trader.accounts.select_related("subaccount__connection").order_by("id"))
    )


@transaction.atomic
def strategy_archive(*, strategy: Strategy) -> Strategy:
    """Archive: switched off, out of every list, its webhook answers 410 and stores nothing.
    Its signals, outcomes and orders stay. Archiving twice keeps the first date."""
    if strategy.archived_at is None:
        strategy.archived_at = timezone.now()
    strategy.enabled = False
    strategy.save(update_fields=["archived_at", "enabled"])
    return strategy


@transaction.atomic
def trader_archive(*, trader: Trader) -> Trader:
    """Archive: switched off (no alert acts on its accounts any more) and out of every list.
    Open positions at the broker are not touched. Archiving twice keeps the first date."""
    if trader.archived_at is None:
        trader.archived_at = timezone.now()
    trader.enabled = False
    trader.save(update_fields=["archived_at", "enabled"])
    return trader


def strategy_restore(*, strategy: Strategy) -> Strategy:
    """Back in the lists, still switched off: the owner switches it on when ready."""
    strategy.archived_at = None
    strategy.save(update_fields=["archived_at"])
    return strategy


def trader_restore(*, trader: Trader) -> Trader:
    """Back in the lists, still switched off: the user switches it on when ready."""
    trader.archived_at = None
    trader.save(update_fields=["archived_at"])
    return trader
