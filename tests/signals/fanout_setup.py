"""Many simulator logins with many accounts each, all following one strategy: a fan-out."""

from __future__ import annotations

from collections import Counter
from typing import Any

from accounts.models import BrokerConnection, Subaccount, User
from tests.factories import TraderFactory
from trading.brokers.services import broker_connection_create
from trading.models import Strategy, TraderAccount


def logins_follow(
    sim: Any, *, user: User, strategy: Strategy, logins: int, per_login: int, prefix: str
) -> list[Subaccount]:
    """``logins`` new simulator logins of ``per_login`` accounts each, one trader of ``user``
    on ``strategy`` trading every account; the accounts, login by login."""
    trader = TraderFactory.create(strategy=strategy, user=user)
    subaccounts: list[Subaccount] = []
    for number in range(logins):
        name = f"{prefix}{number}"
        accounts = sim.control.add_user(
            name,
            f"{name}-password",
            [f"{prefix.upper()}{number}X{i:02d}" for i in range(per_login)],
        )["accounts"]
        connection = broker_connection_create(
            user=user,
            label=name,
            broker=BrokerConnection.Broker.SIMULATOR,
            username=name,
            password=f"{name}-password",
        )
        subaccounts += Subaccount.objects.bulk_create(
            [
                Subaccount(connection=connection, broker_account_id=a["id"], name=a["name"])
                for a in accounts
            ]
        )
    TraderAccount.objects.bulk_create(
        [TraderAccount(trader=trader, subaccount=s) for s in subaccounts]
    )
    return subaccounts


def broker_books(sim: Any, subaccounts: list[Subaccount]) -> dict[int, dict[str, Any]]:
    """Per broker account: its net position, how often each clOrdId was placed, its working
    orders' clOrdIds."""
    state = sim.control.state()
    ids = {s.broker_account_id for s in subaccounts}
    books: dict[int, dict[str, Any]] = {
        i: {"net": 0, "placed": Counter(), "working": []} for i in ids
    }
    for p in state["positions"]:
        if p["accountId"] in ids:
            books[p["accountId"]]["net"] += p["netPos"]
    for o in state["orders"]:
        if o["accountId"] in ids:
            books[o["accountId"]]["placed"][o.get("clOrdId")] += 1
            if o["ordStatus"] in ("Working", "Suspended"):
                books[o["accountId"]]["working"].append(o.get("clOrdId"))
    return books
