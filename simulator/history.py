"""The demo's past: a few trading days of round-trip trades on the demo login's accounts,
booked at start-up (``--demo-history-days N``) through the engine's own order and fill path
with past timestamps, so a fresh ``make demo`` has fills, trades and P&L to show.

What it guarantees:

- Deterministic: a calendar day's trades (contracts, times, sizes, prices) depend only on the
  seed, the account's name and the day, so a restart on another day books the days the two
  windows share identically.
- Ids of its own: each (day, account) numbers its orders, versions, fills and positions from a
  block above every id a run hands out live (``HISTORY_BASE`` > the engine's ``RUN_BASE``
  ranges), the same block on every run; a database that kept an earlier run's rows sees the
  same ids again (not the same trades twice), and a live id never meets a history id.
- The N weekdays before today (America/New_York) that are not US market holidays, in the
  regular session's hours (09:30-16:00; 13:00 on a half day), 3-8 trades a day per account,
  mostly MNQ, some MES and ES (the front quarterly month of the day), prices from a seeded walk
  per index and day (MES and ES share one); the side is picked right a little more often than
  not: winners and losers, partial closes, adds and reversals; every position flat at the end.
- Copying: a follower of ``COPIES`` (the copy group ``seed_demo`` makes) gets its leader's
  fills times its ratio, a fraction of a second later at the same price.
- Afterwards the engine rolls to a new trade date: each account's realized P&L is in its cash
  (balance = 50,000 + the history's P&L) and today's realized P&L starts at zero.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from simulator.engine import JSON, Account, Contract, Counters, Engine

NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_MINUTES = 390  # 09:30-16:00 (210 on a half day)
HISTORY_BASE = 2_000_000_000_000  # above every RUN_BASE range (< 1_000_010_000_000)
BLOCK = 10_000  # ids of one (day, account)
ACCOUNT_SLOTS = 64  # accounts 1001..1064 have blocks of their own
QUARTERLY = (3, 6, 9, 12)
MONTH_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}
# root: (weight, the index it follows, quantities)
ROOTS: dict[str, tuple[int, str, tuple[int, ...]]] = {
    "MNQ": (70, "NQ", (1, 1, 2, 2, 3)),
    "MES": (15, "ES", (1, 2, 2, 3, 4)),
    "ES": (15, "ES", (1, 1, 1, 2)),
}
# follower: (leader, ratio), as seed_demo's "Copy demo" group
COPIES: dict[str, tuple[str, int]] = {"DEMO1003": ("DEMO1002", 2), "DEMO1004": ("DEMO1002", -1)}


@dataclass(frozen=True)
class Leg:
    """One fill to book: ``qty`` of ``symbol`` bought or sold at ``price`` at ``when``."""

    when: float
    day: date
    account: str
    symbol: str
    action: str
    qty: int
    price: Decimal


@dataclass(frozen=True)
class History:
    """What was booked: the days, round trips (all accounts), fills, and each account's P&L."""

    days: tuple[date, ...]
    trades: int
    fills: int
    realized: dict[str, Decimal]

    def as_json(self) -> JSON:
        return {
            "days": [d.isoformat() for d in self.days],
            "trades": self.trades,
            "fills": self.fills,
            "realizedPnL": {name: float(value) for name, value in self.realized.items()},
        }


def trading_days(today: date, count: int) -> list[date]:
    """The ``count`` weekdays before ``today`` that are not US market holidays, oldest first."""
    days: list[date] = []
    day = today
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in us_holidays(day.year):
            days.append(day)
    return days[::-1]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of the month; ``n = -1``: the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    x = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * x) // 451
    month, day = divmod(h + x - 7 * m + 114, 31)
    return date(year, month, day + 1)


def us_holidays(year: int) -> set[date]:
    """The days the US stock market is closed (the equity futures' session is then cut
    short or closed too): no demo trades on them."""
    return {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 6, 19)),
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }


def session_minutes(day: date) -> int:
    """The regular session's length: 13:00 closes the day after Thanksgiving, and Christmas
    Eve and July 3 when they are weekdays."""
    early = {
        _nth_weekday(day.year, 11, 3, 4) + timedelta(days=1),
        date(day.year, 12, 24),
        date(day.year, 7, 3),
    }
    return 210 if day in early else SESSION_MINUTES


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def front_month(root: str, day: date) -> str:
    """The quarterly contract traded on ``day`` (rolled 8 days before its expiry)."""
    year = day.year
    while True:
        for month in QUARTERLY:
            if day < third_friday(year, month) - timedelta(days=8):
                return f"{root}{MONTH_CODES[month]}{year % 10}"
        year += 1


def market_path(
    engine: Engine, contract: Contract, index: str, day: date, seed: int
) -> list[Decimal]:
    """The contract's price each minute of ``day``'s session: a seeded walk around a level
    that drifts slowly from day to day (about the simulator's default price)."""
    rng = random.Random(f"{seed}:market:{index}:{day.isoformat()}")
    anchor = float(contract.product.spec.default_price)
    ordinal = day.toordinal()
    level = anchor * (1 + 0.03 * math.sin(ordinal / 7 + seed) + 0.01 * math.sin(ordinal / 2.3))
    tick = contract.tick
    sigma = anchor * 0.0004
    price = level
    path: list[Decimal] = []
    for _ in range(SESSION_MINUTES + 1):
        path.append(max(tick, (Decimal(repr(price)) / tick).to_integral_value() * tick))
        price += rng.gauss(0, sigma)
    return path


def _at(day: date, minute: int, second: float) -> float:
    opened = datetime.combine(day, SESSION_OPEN, tzinfo=NEW_YORK)
    return round((opened + timedelta(minutes=minute, seconds=second)).timestamp(), 3)


def day_legs(engine: Engine, account: str, day: date, seed: int) -> tuple[int, list[Leg]]:
    """One account's trades of one day: (round trips, their fills in time order)."""
    rng = random.Random(f"{seed}:trades:{account}:{day.isoformat()}")
    count = rng.randint(3, 8)
    span = session_minutes(day) // count
    paths: dict[str, list[Decimal]] = {}
    legs: list[Leg] = []
    trades = 0
    for slot in range(count):
        root = rng.choices(list(ROOTS), weights=[w for w, _, _ in ROOTS.values()])[0]
        _, index, sizes = ROOTS[root]
        symbol = front_month(root, day)
        contract = engine.contract(symbol)
        assert contract is not None
        if symbol not in paths:
            paths[symbol] = market_path(engine, contract, index, day, seed)
        path = paths[symbol]
        start = slot * span + rng.randint(0, span // 3)
        end = min(start + rng.randint(3, span * 2 // 3), (slot + 1) * span - 1)
        middle = (start + end) // 2
        # the demo trader reads the market right a little more often than not
        move = path[middle] - path[start]
        right = 1 if move >= 0 else -1
        side = right if rng.random() < 0.58 else -right
        qty = rng.choice(sizes)
        shape = rng.random()
        # (minute, signed quantity): each trade ends flat
        steps: list[tuple[int, int]]
        if shape < 0.6:
            steps = [(start, side * qty), (end, -side * qty)]
            trades += 1
        elif shape < 0.75:  # a partial close, then the rest
            qty = max(qty, 2)
            part = qty // 2
            steps = [(start, side * qty), (middle, -side * part), (end, -side * (qty - part))]
            trades += 1
        elif shape < 0.88:  # an add, then all out
            more = rng.randint(1, qty)
            steps = [(start, side * qty), (middle, side * more), (end, -side * (qty + more))]
            trades += 1
        else:  # a reversal: one trade closes, the opposite one opens, then closes
            steps = [(start, side * qty), (middle, -side * 2 * qty), (end, side * qty)]
            trades += 2
        for minute, signed in steps:
            legs.append(
                Leg(
                    when=_at(day, minute, rng.uniform(0.5, 59.0)),
                    day=day,
                    account=account,
                    symbol=symbol,
                    action="Buy" if signed > 0 else "Sell",
                    qty=abs(signed),
                    price=path[minute],
                )
            )
    return trades, legs


def copied_legs(leader: list[Leg], follower: str, ratio: int, seed: int) -> list[Leg]:
    """The follower's copies of its leader's fills: ``ratio`` times (negative: the other
    side), 150-450 ms later at the same price."""
    out: list[Leg] = []
    for day in sorted({leg.day for leg in leader}):
        rng = random.Random(f"{seed}:copies:{follower}:{day.isoformat()}")
        for leg in (x for x in leader if x.day == day):
            action = leg.action if ratio > 0 else ("Sell" if leg.action == "Buy" else "Buy")
            out.append(
                Leg(
                    when=round(leg.when + rng.uniform(0.15, 0.45), 3),
                    day=day,
                    account=follower,
                    symbol=leg.symbol,
                    action=action,
                    qty=leg.qty * abs(ratio),
                    price=leg.price,
                )
            )
    return out


def block_ids(day: date, account: Account) -> Counters:
    """The ids of ``account``'s history on ``day``: the same on every run."""
    slot = account.id - 1001
    if not 0 <= slot < ACCOUNT_SLOTS:
        raise ValueError(f"account id {account.id} has no history id block")
    base = HISTORY_BASE + (day.toordinal() * ACCOUNT_SLOTS + slot) * BLOCK
    return Counters(
        order=base + 1,
        version=base + 3001,
        fill=base + 6001,
        position=base + 9001,
        command=base + 9501,
        oco=base + 9801,
    )


def plan(
    engine: Engine, accounts: list[Account], *, days: list[date], seed: int
) -> tuple[int, list[Leg]]:
    """Every account's legs over ``days`` (copies for followers whose leader is here)."""
    names = {a.name for a in accounts}
    by_account: dict[str, list[Leg]] = {}
    trades: dict[str, int] = {}
    for account in accounts:
        if account.name in COPIES and COPIES[account.name][0] in names:
            continue
        legs: list[Leg] = []
        trades[account.name] = 0
        for day in days:
            made, day_fills = day_legs(engine, account.name, day, seed)
            trades[account.name] += made
            legs += day_fills
        by_account[account.name] = legs
    for account in accounts:
        copy = COPIES.get(account.name)
        if copy is not None and copy[0] in by_account:
            leader = by_account[copy[0]]
            by_account[account.name] = copied_legs(leader, account.name, copy[1], seed)
            trades[account.name] = trades[copy[0]]
    return sum(trades.values()), sorted(
        (leg for legs in by_account.values() for leg in legs),
        key=lambda leg: (leg.when, leg.account),
    )


def book_history(engine: Engine, accounts: list[Account], *, days: int, seed: int) -> History:
    """Book ``days`` trading days of history for ``accounts`` in the engine (see the module)."""
    today = datetime.fromtimestamp(engine.clock(), NEW_YORK).date()
    window = trading_days(today, days)
    trades, legs = plan(engine, accounts, days=window, seed=seed)
    by_name = {a.name: a for a in accounts}
    blocks: dict[tuple[date, str], Counters] = {}
    for leg in legs:
        account = by_name[leg.account]
        ids = blocks.setdefault((leg.day, leg.account), block_ids(leg.day, account))
        contract = engine.contract(leg.symbol)
        assert contract is not None
        with engine.as_of(leg.when, ids):
            engine.set_price(contract, leg.price)
            answer = engine.place_order(
                account.user_id,
                {
                    "accountId": account.id,
                    "symbol": leg.symbol,
                    "action": leg.action,
                    "orderQty": leg.qty,
                    "orderType": "Market",
                    "timeInForce": "Day",
                },
            )
        if "orderId" not in answer:
            raise RuntimeError(f"history order refused: {answer}")
        if ids.order >= ids.version - 1:
            raise RuntimeError(f"more history orders than a block holds on {leg.day}")
    engine.drain_events()  # the past is not news: nobody was subscribed then
    realized = {a.name: a.realized for a in accounts}
    engine.new_trade_date()
    return History(days=tuple(window), trades=trades, fills=len(legs), realized=realized)
