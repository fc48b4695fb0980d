"""Streams benchmark (issue 10 §5): real simulator, ``manage.py run_streams``, uvicorn on
``config.asgi``, PostgreSQL and Redis.

1. Memory per streamed login: the run_streams process's RSS with 1 login streamed, then with
   20 (20 simulator users, each a connection with an enabled trader account), all connected
   and their snapshots applied: (RSS_20 - RSS_1) / 19.
2. Events applied per second by one streams process: a burst of market orders placed by hand
   at the simulator's REST API on 10 accounts of one login (each gives order, orderVersion,
   fill, position and, when it closes, cashBalance events). A second user socket of that login
   in this process records every event the simulator sends; the figure is those events over
   the time from the first one's arrival to the last mirror row committed (the rows' own
   timestamps). Then mirror_apply on the same recorded events, in a loop in this process (into
   a twin connection of the same login, fresh rows): the process's overhead is the difference.
3. Event at the simulator -> Fill row committed -> fill frame on ``/ws/live/``, one hand order
   at a time: t0 the order sent, t1 the Fill row's insert time (``recorded_at``), t2 the frame's
   arrival at a logged-in WebSocket client (the ``websockets`` library with the session
   cookie, standing in for the browser); p50/p99.

    .venv/bin/python bench/streams.py        (BENCH_ORDERS, BENCH_FILLS, BENCH_LOGINS to tune)
DESIGN.md §9: event at the simulator -> row -> frame in the browser p99 < 250 ms. The issue
gives no target for the other figures: they are printed with what they mean.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    bench_environment,
    cpu_seconds,
    pct,
    prepare_database,
    redis_clear,
    rss_settled_kb,
    start,
    stop,
    stop_children_on_sigterm,
    wait_until,
    web_start,
)
from _stream_logins import (
    EMAIL_DOMAIN,
    BenchLogin,
    Listener,
    login_connect,
    login_seed,
    progress_of,
    rest_token,
    streams_ready,
)

bench_environment(database="bracketeer_bench_streams", redis_prefix="bracketeer-bench-streams")
ORDERS = int(os.environ.get("BENCH_ORDERS", "200"))
FILLS = int(os.environ.get("BENCH_FILLS", "50"))
LOGINS = int(os.environ.get("BENCH_LOGINS", "20"))
if LOGINS < 2 or ORDERS < 8:
    raise SystemExit("BENCH_LOGINS must be at least 2 and BENCH_ORDERS at least 8")
BURST_ACCOUNTS = 10
SYMBOL = "MNQZ6"
REFRESH_SECONDS = 1.0


def order_body(account: dict[str, Any], action: str) -> dict[str, Any]:
    return {
        "accountSpec": account["name"],
        "accountId": account["id"],
        "action": action,
        "symbol": SYMBOL,
        "orderQty": 1,
        "orderType": "Market",
        "isAutomated": False,
    }


async def orders_place(
    sim: Any, tokens: list[str], logins: list[BenchLogin], per_login: int, action: str
) -> None:
    """``per_login`` market orders of ``action`` on each login, round-robin over its accounts,
    8 in flight in all."""
    import httpx

    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=30) as client:
        room = asyncio.Semaphore(8)

        async def one(token: str, account: dict[str, Any]) -> None:
            async with room:
                answer = await client.post(
                    "/order/placeorder",
                    json=order_body(account, action),
                    headers={"Authorization": f"Bearer {token}"},
                )
            if "orderId" not in answer.json():
                raise SystemExit(f"the simulator refused an order: {answer.text}")

        await asyncio.gather(
            *(
                one(token, login.accounts[i % len(login.accounts)])
                for i in range(per_login)
                for token, login in zip(tokens, logins, strict=True)
            )
        )


def last_row_committed(connection_pk: int) -> float:
    """The newest write of the mirror on this connection's rows (their own timestamps)."""
    from django.db.models import Max

    from trading.models import CashBalance, Fill, Order, Position

    on = {"subaccount__connection_id": connection_pk}
    stamps = [
        Fill.objects.filter(**on).aggregate(t=Max("recorded_at"))["t"],
        Position.objects.filter(**on).aggregate(t=Max("updated_at"))["t"],
        CashBalance.objects.filter(**on).aggregate(t=Max("updated_at"))["t"],
        Order.objects.filter(**on).aggregate(t=Max("updated_at"))["t"],
    ]
    return max(s.timestamp() for s in stamps if s is not None)


def burst_mirrored(connection_pk: int, orders: int) -> bool:
    from django.db.models import F, Sum

    from trading.models import Fill, Position

    on = {"subaccount__connection_id": connection_pk}
    if Fill.objects.filter(**on).count() < orders:
        return False
    traded = Position.objects.filter(**on).aggregate(n=Sum(F("bought") + F("sold")))["n"]
    return traded is not None and traded >= orders


@dataclass
class Burst:
    events: list[Any]  # StreamEvent, in the order each login's socket received them
    seconds: float  # first event received -> last mirror row committed
    placed_seconds: float
    queue_max: int
    apply_failures: int
    cpu_seconds: float  # used by run_streams meanwhile

    def cpu_words(self) -> str:
        return (
            f"run_streams used {self.cpu_seconds * 1000 / len(self.events):.1f} ms of CPU per "
            f"event ({self.cpu_seconds / self.seconds:.0%} of one core)"
        )

    @property
    def rate(self) -> float:
        return len(self.events) / self.seconds


def burst_measure(sim: Any, logins: list[BenchLogin], orders: int, *, streams_pid: int) -> Burst:
    """``orders`` market orders spread over the logins' accounts: every account buys, the price
    moves 4 ticks, every account sells (so each sell realizes P&L: cash balance events). Timed
    from the first event a listener received to the last row the mirror committed, once the
    streams process reports every event it received applied."""
    tokens = [rest_token(sim, login) for login in logins]
    per_side = orders // (2 * len(logins))
    per_login = 2 * per_side
    with contextlib.ExitStack() as stack:
        listeners = [stack.enter_context(Listener(sim, login)) for login in logins]
        before = {login.key: progress_of(login.key) for login in logins}
        cpu_before = cpu_seconds(streams_pid)
        placed_from = time.time()
        asyncio.run(orders_place(sim, tokens, logins, per_side, "Buy"))
        sim.control.step(SYMBOL, 4)
        asyncio.run(orders_place(sim, tokens, logins, per_side, "Sell"))
        placed = time.time() - placed_from
        wait_until(
            lambda: all(burst_mirrored(x.connection.pk, per_login) for x in logins),
            timeout=300,
            what="the burst's fills and positions in the mirror",
            every=0.05,
        )
        cpu = cpu_seconds(streams_pid) - cpu_before

        def all_applied() -> bool:  # the holder writes its progress every third of a lease
            for login, listener in zip(logins, listeners, strict=True):
                now, then = progress_of(login.key), before[login.key]
                received = now.events - then.events
                if received < len(listener.events) or now.applied - then.applied < received:
                    return False
            return True

        wait_until(all_applied, timeout=30, what="the streams process to report every event")
    after = {login.key: progress_of(login.key) for login in logins}
    first = min(listener.events[0][0] for listener in listeners)
    last = max(last_row_committed(login.connection.pk) for login in logins)
    return Burst(
        events=[event for listener in listeners for _, event in listener.events],
        seconds=last - first,
        placed_seconds=placed,
        queue_max=max(p.queue_max for p in after.values()),
        apply_failures=sum(after[k].apply_failures - before[k].apply_failures for k in after),
        cpu_seconds=cpu,
    )


def events_per_second(
    sim: Any, one: BenchLogin, several: list[BenchLogin], *, streams_pid: int
) -> None:
    from trading.mirror import mirror_apply
    from trading.models import Fill

    burst = burst_measure(sim, [one], ORDERS, streams_pid=streams_pid)
    kinds = Counter(e.entity_type for e in burst.events)
    print(
        f"2. events applied by one streams process, one login: {len(burst.events)} events from "
        f"{kinds['fill']} market orders on {len(one.accounts)} accounts "
        f"({', '.join(f'{k} {v}' for k, v in kinds.most_common())})"
    )
    print(
        f"   first event -> last row committed {burst.seconds:.2f} s: {burst.rate:.0f} events/s "
        f"({burst.rate * kinds['fill'] / len(burst.events):.0f} orders/s); orders placed in "
        f"{burst.placed_seconds:.2f} s; queue high-water {burst.queue_max}; apply failures "
        f"{burst.apply_failures}; {burst.cpu_words()}"
    )

    twin = login_connect(sim_name=one.sim_name, accounts=one.accounts, streamed=False)
    started = time.perf_counter()
    for event in burst.events:
        mirror_apply(connection_pk=twin.connection.pk, event=event)
    in_process = len(burst.events) / (time.perf_counter() - started)
    fills = Fill.objects.filter(subaccount__connection=twin.connection).count()
    if fills != kinds["fill"]:
        raise SystemExit(f"the in-process replay recorded {fills} fills, not {kinds['fill']}")
    print(
        f"   mirror_apply in this process on the same events, one after another: "
        f"{in_process:.0f} events/s -> the streams process reaches {burst.rate / in_process:.0%} "
        f"of it ({1000 / burst.rate - 1000 / in_process:+.2f} ms per event)"
    )

    if not several:
        return
    spread = burst_measure(sim, several, ORDERS, streams_pid=streams_pid)
    print(
        f"   the same {ORDERS} orders spread over {len(several)} logins (applied in parallel, one "
        f"thread each): {len(spread.events)} events in {spread.seconds:.2f} s, "
        f"{spread.rate:.0f} events/s ({spread.rate / burst.rate:.1f}x one login); queue "
        f"high-water {spread.queue_max}; apply failures {spread.apply_failures}; "
        f"{spread.cpu_words()}"
    )


def session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def fill_row_wait(connection_pk: int, order_id: int) -> tuple[int, float]:
    """The Fill row of this broker order, polled every 5 ms: its pk and insert time."""
    from django.db import connection

    from trading.models import Fill

    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            row = (
                Fill.objects.filter(
                    subaccount__connection_id=connection_pk, broker_order_id=order_id
                )
                .values_list("pk", "recorded_at")
                .first()
            )
            if row is not None:
                return row[0], row[1].timestamp()
            time.sleep(0.005)
    finally:
        connection.close()
    raise SystemExit(f"no Fill row for order {order_id} within 10 s")


async def fill_latencies(
    sim: Any, base: str, login: BenchLogin, token: str
) -> tuple[list[float], list[float]]:
    import httpx
    import websockets
    from websockets.typing import Origin

    cookie = await asyncio.to_thread(session_cookie, login.user)
    frames: list[tuple[float, dict[str, Any]]] = []
    url = base.replace("http://", "ws://") + "/ws/live/"
    committed: list[float] = []
    shown: list[float] = []
    async with websockets.connect(
        url, origin=Origin(base), additional_headers={"Cookie": cookie}, open_timeout=10
    ) as ws:

        async def read() -> None:
            async for raw in ws:
                frames.append((time.time(), json.loads(raw)))

        reader = asyncio.create_task(read())

        async def frame_of_fill(fill_pk: int) -> float:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                for at, frame in frames:
                    payload = frame.get("payload") or {}
                    if payload.get("kind") == "fill" and payload.get("id") == fill_pk:
                        return at
                await asyncio.sleep(0.001)
            raise SystemExit(f"no fill frame for fill {fill_pk} on /ws/live/ within 10 s")

        headers = {"Authorization": f"Bearer {token}"}
        account = login.accounts[0]
        async with httpx.AsyncClient(base_url=sim.rest_url, headers=headers) as client:
            for i in range(FILLS + 1):  # round 0 warms the path up, unmeasured
                t0 = time.time()
                answer = await client.post(
                    "/order/placeorder", json=order_body(account, "Buy" if i % 2 == 0 else "Sell")
                )
                order_id = answer.json()["orderId"]
                fill_pk, t1 = await asyncio.to_thread(fill_row_wait, login.connection.pk, order_id)
                t2 = await frame_of_fill(fill_pk)
                if i > 0:
                    committed.append((t1 - t0) * 1000)
                    shown.append((t2 - t0) * 1000)
                await asyncio.sleep(0.1)  # its position and cash frames pass before the next
        reader.cancel()
    return committed, shown


def main() -> None:
    stop_children_on_sigterm()
    prepare_database()
    import django

    django.setup()
    from django.conf import settings

    from accounts.models import User
    from tests.sim_fixtures import start_simulator

    print(
        f"streams bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "(every process of this bench and PostgreSQL, Redis on the same cores)"
    )
    redis_clear()
    # Logins of an earlier run would be streamed (and fail) beside this run's.
    User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()
    run_id = uuid.uuid4().hex[:5]
    processes = []
    with start_simulator() as sim:
        os.environ["SIMULATOR_URL"] = sim.base_url
        settings.SIMULATOR_URL = sim.base_url
        sim.control.set_price(SYMBOL, "18000.00")
        try:
            burst = login_seed(sim, f"bs{run_id}burst", BURST_ACCOUNTS, streamed=True)
            streams_log = Path(f"/tmp/bracketeer-bench-streams-{run_id}.log")
            streams = start(
                [
                    sys.executable,
                    "manage.py",
                    "run_streams",
                    "--refresh-seconds",
                    str(REFRESH_SECONDS),
                ],
                env={"PYTHONUNBUFFERED": "1"},
                log=streams_log,
            )
            processes.append(streams)
            web, base = web_start(workers=2)
            processes.append(web)
            wait_until(lambda: streams_ready([burst.key]), timeout=60, what="the first login")

            # 1 (first, on a process that has done nothing else yet): memory per login.
            one = rss_settled_kb(streams.pid)
            others = [
                login_seed(sim, f"bs{run_id}m{n}", 1, streamed=True) for n in range(LOGINS - 1)
            ]
            keys = [burst.key] + [o.key for o in others]
            wait_until(lambda: streams_ready(keys), timeout=120, what=f"{LOGINS} logins")
            many = rss_settled_kb(streams.pid)
            print(
                f"1. run_streams RSS: 1 login {one / 1024:.1f} MB, {LOGINS} logins "
                f"{many / 1024:.1f} MB -> {(many - one) / (LOGINS - 1):.0f} KB per streamed "
                "login (socket, tasks, queue, state)"
            )

            events_per_second(sim, burst, others[:4], streams_pid=streams.pid)

            committed, shown = asyncio.run(fill_latencies(sim, base, burst, rest_token(sim, burst)))
            print(
                f"3. hand order at the simulator -> Fill row committed, {len(committed)} fills one "
                f"at a time: p50 {pct(committed, 50):.1f} ms p99 {pct(committed, 99):.1f} ms"
            )
            print(
                f"   -> fill frame on a logged-in /ws/live/: p50 {pct(shown, 50):.1f} ms "
                f"p99 {pct(shown, 99):.1f} ms (DESIGN target p99 < 250 ms); row -> frame "
                f"p50 {statistics.median([s - c for s, c in zip(shown, committed, strict=True)]):.1f} ms"
            )
            print(
                f"   ({LOGINS} logins streamed meanwhile; load average now "
                f"{os.getloadavg()[0]:.1f}; run_streams log: {streams_log})"
            )
        finally:
            for proc in reversed(processes):
                stop(proc)


if __name__ == "__main__":
    main()
