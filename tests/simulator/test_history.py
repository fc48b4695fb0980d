"""The demo history (``--demo-history-days``): booked through the engine with past timestamps,
deterministic for a seed, flat at the end, the cash holding its P&L, ids of its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from analytics.round_trips import FillIn, round_trips
from simulator.app import Config, create_app
from simulator.cli import add_arguments
from simulator.engine import RUN_BASE
from simulator.history import HISTORY_BASE, NEW_YORK, trading_days
from simulator.state import SEED_CASH, Exchange

ACCOUNTS = ("DEMO1001", "DEMO1002", "DEMO1003", "DEMO1004")
# Wednesday 2 December 2026, 09:00 in New York: the window runs over Thanksgiving week
NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC).timestamp()


def exchange(*, days: int = 5, seed: int = 7, now: float = NOW) -> Exchange:
    return Exchange(clock=lambda: now, demo_accounts=ACCOUNTS, history_days=days, history_seed=seed)


def when(fill: dict[str, Any]) -> datetime:
    return datetime.strptime(fill["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def fills_by_account(ex: Exchange) -> dict[str, list[dict[str, Any]]]:
    state = ex.state()
    account_of = {o["id"]: o["accountId"] for o in state["orders"]}
    names = {a["id"]: a["name"] for a in state["accounts"]}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fill in state["fills"]:
        out[names[account_of[fill["orderId"]]]].append(fill)
    return out


def test_the_same_seed_books_the_same_history_and_another_seed_another() -> None:
    first, again, other = exchange(), exchange(), exchange(seed=8)
    assert first.state() == again.state()
    assert first.state()["fills"] != other.state()["fills"]
    summary = first.state()["history"]
    assert summary["days"] == [
        "2026-11-24",
        "2026-11-25",
        "2026-11-27",  # Thanksgiving (26th) is skipped, the half day after it is not
        "2026-11-30",
        "2026-12-01",
    ]
    assert summary["fills"] == len(first.state()["fills"])
    first.reset()
    assert first.state() == again.state()  # a reset books it again, the same


def test_everything_is_flat_and_filled_at_the_end() -> None:
    ex = exchange()
    state = ex.state()
    assert state["positions"] and all(p["netPos"] == 0 for p in state["positions"])
    assert {o["ordStatus"] for o in state["orders"]} == {"Filled"}
    assert len(state["fills"]) == len(state["orders"])
    # the day rolled: today's bought/sold start again on the flat positions
    assert all(p["bought"] == p["sold"] == 0 for p in state["positions"])


def test_fills_are_in_the_past_on_weekdays_in_the_session_of_the_window() -> None:
    ex = exchange()
    today = datetime.fromtimestamp(NOW, NEW_YORK).date()
    window = set(trading_days(today, 5))
    assert min(window) >= today - timedelta(days=10)
    days: set[date] = set()
    for fill in ex.state()["fills"]:
        at = when(fill).astimezone(NEW_YORK)
        assert at.timestamp() < NOW
        assert at.weekday() < 5 and at.date() in window
        closes = time(13) if at.date() == date(2026, 11, 27) else time(16)
        assert time(9, 30) <= at.time() < closes
        assert fill["tradeDate"] == {"year": at.year, "month": at.month, "day": at.day}
        days.add(at.date())
    assert days == window


def test_the_cash_holds_the_realized_pnl_of_the_fills() -> None:
    ex = exchange()
    engine = ex.engine
    flows: dict[str, Decimal] = defaultdict(Decimal)
    for name, fills in fills_by_account(ex).items():
        for fill in fills:
            contract = engine.catalog.contracts_by_id[fill["contractId"]]
            sign = 1 if fill["action"] == "Sell" else -1
            flows[name] += (
                sign * Decimal(str(fill["price"])) * fill["qty"] * contract.value_per_point
            )
    history = ex.history
    assert history is not None
    for account in engine.accounts.values():
        assert account.cash - SEED_CASH == flows[account.name] == history.realized[account.name]
        assert account.realized == 0  # a new trade date: today's realized P&L starts at zero
        balance = engine.cash_balance(account)
        assert Decimal(str(balance["amount"])) == account.cash
        assert balance["realizedPnL"] == 0


def test_history_ids_are_their_own_stable_across_runs_and_apart_from_live_ids() -> None:
    ex = exchange()
    state = ex.state()
    assert all(o["id"] >= HISTORY_BASE for o in state["orders"])
    assert all(f["id"] >= HISTORY_BASE for f in state["fills"])
    ids = [f["id"] for f in state["fills"]]
    assert len(set(ids)) == len(ids)
    # a live order after start-up is numbered from the run's base, far below
    answer = ex.engine.place_order(
        1, {"accountId": 1001, "symbol": "MNQZ6", "action": "Buy", "orderQty": 1}
    )
    assert RUN_BASE < answer["orderId"] < HISTORY_BASE
    live = [f for f in ex.engine.fills.values() if f.order_id == answer["orderId"]]
    assert len(live) == 1 and RUN_BASE < live[0].id < HISTORY_BASE
    # restarted the next day: the days both windows hold are booked the same, same ids
    later = exchange(now=NOW + 86400)
    shared = {
        f["id"]: (f["timestamp"], f["action"], f["qty"], f["price"])
        for f in later.state()["fills"]
        if "2026-11-25" <= f["timestamp"][:10] <= "2026-12-01"
    }
    before = {
        f["id"]: (f["timestamp"], f["action"], f["qty"], f["price"])
        for f in state["fills"]
        if "2026-11-25" <= f["timestamp"][:10] <= "2026-12-01"
    }
    assert shared == before and shared
    assert later.state()["history"]["days"][-1] == "2026-12-02"


def test_followers_copy_the_leader_twice_and_inverse_at_the_same_prices() -> None:
    fills = fills_by_account(exchange())
    leader = fills["DEMO1002"]
    for follower, ratio in (("DEMO1003", 2), ("DEMO1004", -1)):
        copies = fills[follower]
        assert len(copies) == len(leader)
        for original, copy in zip(leader, copies, strict=True):
            assert copy["qty"] == original["qty"] * abs(ratio)
            assert copy["price"] == original["price"]
            assert (copy["action"] == original["action"]) == (ratio > 0)
            lag = (when(copy) - when(original)).total_seconds()
            assert 0.1 < lag < 0.5
    assert fills["DEMO1001"] != [] and len(fills["DEMO1001"]) != len(leader)  # its own


def test_the_history_has_winners_losers_partial_closes_adds_and_reversals() -> None:
    ex = exchange()
    state = ex.state()
    names = {c.id: c.name for c in ex.catalog.contracts.values()}
    assert {names[f["contractId"]] for f in state["fills"]} == {"MNQZ6", "MESZ6", "ESZ6"}
    trips = []
    side: dict[int, int] = {}
    for fills in fills_by_account(ex).values():
        per_contract: dict[int, list[FillIn]] = defaultdict(list)
        for fill in fills:
            side[fill["id"]] = 1 if fill["action"] == "Buy" else -1
            per_contract[fill["contractId"]].append(
                FillIn(
                    key=fill["id"],
                    at=when(fill),
                    side=side[fill["id"]],
                    qty=fill["qty"],
                    price=Decimal(str(fill["price"])),
                )
            )
        for contract_fills in per_contract.values():
            trips += round_trips(contract_fills)
    assert ex.history is not None and len(trips) == ex.history.trades
    assert all(not t.is_open for t in trips)
    assert any(t.points > 0 for t in trips) and any(t.points < 0 for t in trips)
    in_trips = [k for t in trips for k in t.fill_keys]
    reversals = {k for k in in_trips if in_trips.count(k) == 2}  # closes one, opens the next
    assert reversals
    plain = [t for t in trips if not reversals & set(t.fill_keys)]
    adds = [t for t in plain if sum(side[k] == t.direction for k in t.fill_keys) > 1]
    partial_closes = [t for t in plain if sum(side[k] != t.direction for k in t.fill_keys) > 1]
    assert adds and partial_closes


def test_the_flag_reaches_the_exchange_and_no_flag_books_nothing() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert vars(parser.parse_args(["--demo-history-days", "3"]))["demo_history_days"] == 3
    assert vars(parser.parse_args([]))["demo_history_days"] == 0
    state = create_app(Config(demo_history_days=2)).state.simulator.exchange.state()
    assert len(state["history"]["days"]) == 2 and state["fills"]
    state = create_app(Config()).state.simulator.exchange.state()
    assert state["history"] is None and state["fills"] == []
