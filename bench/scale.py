"""Scale benchmark (issue 14, Figures): the seven figures in one run, ending with a table of
where each stands against its goal (value, goal, met or not, ratio to the goal).

Real processes: the simulator, uvicorn (2 processes), Celery workers on queue ``signals``,
PostgreSQL and Redis, with the bench's own database and Redis prefix.

1. Webhook acknowledge time at BENCH_RATE (200) alerts/s for BENCH_SECONDS while a worker
   executes them (signals.py's `intake_figure`).
2. Webhook -> entry order at the simulator, one alert at a time, no simulated latency
   (signals.py's `entries_figure`, BENCH_ENTRIES entries); if signals have a ``timings`` field
   (stage -> ms since receipt), the p50 of each stage is printed under the table.
3. and 4. One alert -> every account (BENCH_SCALE_SIZES, default 100 and 1,000) with the
   simulator's 50 ms latency on every broker call: the alert sent -> the last entry order's
   creation stamp at the simulator (signals.py's `fan_out`), with a worker shaped as in
   production (the Procfile's 4 pool processes). The small size again with a worker executing
   one account at a time (SIGNAL_ACCOUNT_CONCURRENCY=1, FANOUT_BATCH=false): "sequential".
5. A leader's fill at the simulator -> the last follower's order accepted, for as many
   followers as the small size, 50 ms latency, a buy and a sell (copying.py's `trade_measure`,
   ``fill_copy`` run in this process as there).
6. CPU time of the worker's processes (main and pool) from the alert sent to the signal done,
   per account; the web's and the simulator's CPU in the same window beside it.
7. The large fan-out with a worker of 1, 2 and 4 pool processes (BENCH_SCALE_WORKERS): each
   time and the speed-up against the first.

The accounts are what a fan-out meets: simulator logins of 10 accounts each, each its own
broker connection with its token stored at set-up, all of one Bracketeer user (a plan without
caps), one trader per login and strategy. After a worker starts, every login of the size about
to be measured is warmed by a buy and a close on one account of each; every measured buy meets
flat accounts (a close follows it before the next buy on them).

    .venv/bin/python bench/scale.py   (BENCH_SCALE_SIZES, BENCH_SCALE_WORKERS, BENCH_ENTRIES,
                                       BENCH_RATE, BENCH_SECONDS)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from _common import pct, stop, tree_cpu_seconds, web_start
from _stream_logins import Listener, rest_token
from copying import (
    LATENCY_MS,
    PER_LOGIN,
    SYMBOL,
    login_make,
    one_round_trip,
    owner_make,
    trade_measure,
)
from signals import (
    ENTRIES,
    RATE,
    WORKER_NICE,
    alert_post,
    bench_start,
    entries_figure,
    fan_out,
    intake_figure,
    strategy_make,
    wait_done,
    web_warm,
    worker,
)

SIZES = sorted({int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "100,1000").split(",")})
PROCESSES = [int(n) for n in os.environ.get("BENCH_SCALE_WORKERS", "1,2,4").split(",")]
# The worker as the Procfile and docker/compose.yml run it (WORKER_CONCURRENCY, default 4).
PRODUCTION_PROCESSES = 4
# A fan-out on the current code takes about 26 ms of CPU an account (1,000: ~30-60 s).
FAN_OUT_TIMEOUT = 600.0
# An account not started within SIGNAL_MAX_AGE_SECONDS (120) of the alert is not traded:
# the bench's workers wait longer, so that a slow fan-out is measured to its end (and the
# accounts started later than the production limit are counted).
MAX_AGE_SECONDS = "900"


@dataclass
class FanOut:
    accounts: int
    ms: float  # the alert sent -> the last entry order created at the simulator
    cpu: dict[str, float]  # CPU seconds from the alert sent to the signal done, per process tree
    load: float  # the 1-minute load average when it finished
    signal_id: int
    requests: Counter[str]  # broker calls the simulator counted meanwhile, by endpoint

    def cpu_ms_per_account(self, tree: str = "worker") -> float:
        return self.cpu[tree] * 1000 / self.accounts

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.accounts} accounts, last entry at the simulator {self.ms:.0f} ms "
            f"after the alert; CPU {self.cpu_ms_per_account():.1f} ms an account in the worker "
            f"(web {self.cpu['web'] * 1000:.0f} ms, simulator "
            f"{self.cpu['simulator'] * 1000:.0f} ms in all); load {self.load:.1f}\n"
            f"     {in_flight(self.signal_id)}\n     broker calls per account: "
            + ", ".join(
                f"{endpoint} {count / self.accounts:.1f}"
                for endpoint, count in self.requests.most_common()
            )
        )


@dataclass
class Row:
    figure: str
    value: float  # ms, or CPU ms an account
    goal: float | None  # the value must stay below it; None: printed only
    goal_text: str
    note: str = ""


def cpu_read(trees: dict[str, int]) -> dict[str, float]:
    return {name: tree_cpu_seconds(pid) for name, pid in trees.items()}


def fan_out_measured(client: Any, sim: Any, strategy: Any, n: int, trees: dict[str, int]) -> FanOut:
    from trading.models import Signal

    requests = Counter(sim.control.counters()["requests"])
    before = cpu_read(trees)
    after: dict[str, float] = {}
    done: list[int] = []

    def on_done(signal_id: int) -> None:
        after.update(cpu_read(trees))
        done.append(signal_id)
        requests.subtract(sim.control.counters()["requests"])

    took = fan_out(client, sim, Signal, strategy, n, timeout=FAN_OUT_TIMEOUT, on_done=on_done)
    return FanOut(
        accounts=n,
        ms=took,
        cpu={name: after[name] - before[name] for name in trees},
        load=os.getloadavg()[0],
        signal_id=done[0],
        requests=-requests,
    )


def in_flight(signal_id: int) -> str:
    """How the worker went through the accounts, from their outcomes' start and finish stamps
    (started: under the account's position lock, its database connection held)."""
    from django.conf import settings

    from trading.models import Signal, SignalOutcome

    received = Signal.objects.get(pk=signal_id).received_at.timestamp()
    spans = [
        (s.timestamp() - received, f.timestamp() - received)
        for s, f in SignalOutcome.objects.filter(signal_id=signal_id).values_list(
            "started_at", "finished_at"
        )
        if s is not None and f is not None
    ]
    if not spans:
        return "no outcome start and finish stamps"
    edges = sorted([(s, 1) for s, _ in spans] + [(f, -1) for _, f in spans])
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    late = sum(s > settings.SIGNAL_MAX_AGE_SECONDS for s, _ in spans)
    return (
        f"accounts at once: at most {most}; first started {min(s for s, _ in spans) * 1000:.0f} "
        f"ms after receipt, last {max(s for s, _ in spans) * 1000:.0f} ms; one account start "
        f"-> finish median {statistics.median(f - s for s, f in spans) * 1000:.0f} ms"
        + (
            f"; {late} started after {settings.SIGNAL_MAX_AGE_SECONDS} s, the production "
            "limit (SIGNAL_MAX_AGE_SECONDS): they would not have been traded"
            if late
            else ""
        )
    )


def alerts_done(client: Any, strategy: Any, actions: tuple[str, ...]) -> None:
    """Each alert in turn, each executed to the end before the next."""
    from trading.models import Signal

    for action in actions:
        _, signal_id = alert_post(client, strategy, action)
        wait_done(Signal, signal_id, timeout=FAN_OUT_TIMEOUT)


def table(rows: list[Row]) -> None:
    print(
        f"\nissue 14 figures ({os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}):"
    )
    cells = [("figure", "value", "goal", "met", "ratio", "note")]
    for r in rows:
        unit = "ms/account" if "CPU" in r.figure else "ms"
        met = "-" if r.goal is None else ("yes" if r.value < r.goal else "no")
        ratio = "-" if r.goal is None else f"x{r.value / r.goal:.2f}"
        cells.append((r.figure, f"{r.value:.1f} {unit}", r.goal_text, met, ratio, r.note))
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    for c in cells:
        print(
            f"{c[0]:<{widths[0]}}  {c[1]:>{widths[1]}}  {c[2]:<{widths[2]}}  "
            f"{c[3]:<{widths[3]}}  {c[4]:>{widths[4]}}  {c[5]}".rstrip()
        )


def stage_timings(signal_ids: list[int]) -> None:
    """The p50 of each stage of the entries' ``timings`` (ms since receipt), when signals have
    that field."""
    from trading.models import Signal

    if "timings" not in {f.name for f in Signal._meta.get_fields()}:
        print("signals have no 'timings' field: no stage breakdown of figure 2")
        return
    stages: dict[str, list[float]] = defaultdict(list)
    for signal in Signal.objects.filter(pk__in=signal_ids):
        for stage, ms in (getattr(signal, "timings", None) or {}).items():
            stages[stage].append(float(ms))
    print(f"figure 2's {len(signal_ids)} entries, p50 of each stage (ms after receipt):")
    for stage, values in sorted(stages.items(), key=lambda kv: statistics.median(kv[1])):
        print(f"  {stage:<32} {statistics.median(values):8.1f} ms  ({len(values)} signals)")


def copy_figure(sim: Any, owner: Any, leader: Any, followers: list[Any], n: int) -> float:
    """5. A leader's fill -> its last follower's order (ms), ``n`` followers from the
    ``followers`` logins, ``fill_copy`` run in this process (no worker): the median of a buy
    and a sell, after a buy and a sell that warm (the leader's reads, contracts)."""
    from accounts.models import Subaccount
    from copytrade.models import Follower
    from copytrade.services import copy_group_create, follower_add

    leader_account = Subaccount.objects.get(connection=leader.connection)
    group = copy_group_create(user=owner, name=f"Bench {leader.sim_name}", leader=leader_account)
    accounts = Subaccount.objects.filter(connection__in=[x.connection for x in followers])
    for account in accounts.order_by("connection_id", "pk")[:n]:
        follower_add(group=group, subaccount=account, ratio=Decimal(1))
    assert Follower.objects.filter(group=group).count() == n
    with Listener(sim, leader) as listener:
        token = rest_token(sim, leader)
        trades = [
            trade_measure(sim, leader, listener, token, action, n)
            for action in ("Buy", "Sell", "Buy", "Sell")  # the leader ends flat
        ]
    print(
        f"5. copy, {n} followers: the leader's fill -> the last follower order "
        f"{', '.join(f'{t.fill_to_last_order * 1000:.0f}' for t in trades)} ms (the first "
        f"two warm); load {os.getloadavg()[0]:.1f}"
    )
    return statistics.median(t.fill_to_last_order for t in trades[2:]) * 1000


def main() -> None:
    bench_start(database="bracketeer_bench_scale", redis_prefix="bracketeer-bench-scale")
    import httpx
    from django.conf import settings

    from accounts.models import Subaccount
    from tests.sim_fixtures import start_simulator
    from trading.mirror_signals import fill_recorded

    # fill_copy runs here (figure 5); the mirror's hook would also queue it on Celery.
    fill_recorded.disconnect(dispatch_uid="copytrade.leader_fill")
    small, big = SIZES[0], SIZES[-1]
    per_signal = settings.SIGNAL_ACCOUNT_CONCURRENCY
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool") or {}
    print(
        f"scale bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; sizes "
        f"{SIZES}, worker processes {PROCESSES}; SIGNAL_ACCOUNT_CONCURRENCY {per_signal}; "
        f"database pool per process {pool.get('max_size', 'off')}"
    )
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:5]
    work: subprocess.Popen[bytes] | None = None
    os.environ["SIGNAL_MAX_AGE_SECONDS"] = MAX_AGE_SECONDS  # for the workers only
    with start_simulator() as sim:
        os.environ["SIMULATOR_URL"] = sim.base_url
        settings.SIMULATOR_URL = sim.base_url
        sim.control.set_price(SYMBOL, "18000.00")

        # Set-up, at no simulated latency: logins of PER_LOGIN accounts, tokens stored.
        owner = owner_make()
        logins = [
            login_make(sim, owner, f"sf{run_id}{i}", PER_LOGIN) for i in range(-(-big // PER_LOGIN))
        ]
        subs = list(
            Subaccount.objects.filter(connection__in=[x.connection for x in logins]).order_by(
                "connection_id", "pk"
            )
        )
        fan = {n: strategy_make(owner, f"fan{n}-{run_id}", subs[:n]) for n in SIZES}
        # One account of each login of a size: a buy and a close on it warm that login.
        warm = {n: strategy_make(owner, f"warm{n}-{run_id}", subs[:n:PER_LOGIN]) for n in SIZES}
        entry_login = login_make(sim, owner, f"se{run_id}", 1)
        single = strategy_make(
            owner,
            f"single-{run_id}",
            list(Subaccount.objects.filter(connection=entry_login.connection)),
        )
        leader = login_make(sim, owner, f"sl{run_id}", 1)
        followers = [
            login_make(sim, owner, f"sc{run_id}{i}", PER_LOGIN)
            for i in range(-(-small // PER_LOGIN))
        ]
        print(
            f"set-up: {len(logins)} logins of {PER_LOGIN} accounts for the fan-outs, "
            f"{len(followers)} for the copy followers, in {time.monotonic() - started:.0f} s"
        )

        web, base = web_start(workers=2)  # as in production on 2 cores (docker/Dockerfile)
        client = httpx.Client(base_url=base, timeout=30)
        assert sim.process is not None
        sim_pid = sim.process.pid
        pending: list[Any] = []  # strategies whose accounts a measured buy left long

        def flatten() -> None:
            """A close to what a measured buy left open, on the worker running now."""
            while pending:
                alerts_done(client, pending.pop(), ("close",))

        def worker_ready(
            processes: int, per_signal: int, env: dict[str, str], size: int
        ) -> dict[str, int]:
            """A new worker, what is left open closed, the size's logins warmed; the process
            trees whose CPU is read."""
            nonlocal work
            if work is not None:
                stop(work)
            work = worker(per_signal, processes=processes, env=env)
            flatten()
            alerts_done(client, warm[size], ("buy", "close"))
            return {"worker": work.pid, "web": web.pid, "simulator": sim_pid}

        try:
            # 1. and 2., as signals.py measures them (its worker: 2 pool processes).
            # 1. twice: the worker at the web's priority, then as the Procfile runs it (nice).
            work = worker(per_signal, nice=0)
            web_warm(base, strategy_make(owner, f"webwarm-{run_id}", []))
            acks_even = intake_figure(base, strategy_make(owner, f"intake0-{run_id}", []), [RATE])
            stop(work)
            work = worker(per_signal, nice=WORKER_NICE)
            acks = intake_figure(base, strategy_make(owner, f"intake-{run_id}", []), [RATE])
            entries = entries_figure(client, sim, single, ENTRIES)
            entry_ms = [ms for _, ms in entries]

            # 3., 4. and 6.: the production-shaped worker, 50 ms on every broker call.
            sim.control.faults(latency_ms=LATENCY_MS)
            trip = one_round_trip(leader) * 1000
            print(
                f"one broker round trip at {LATENCY_MS} ms latency (a position read): {trip:.0f} ms"
            )
            trees = worker_ready(PRODUCTION_PROCESSES, per_signal, {}, big)
            runs: dict[int, FanOut] = {}
            for n in SIZES:
                flatten()
                runs[n] = fan_out_measured(client, sim, fan[n], n, trees)
                pending.append(fan[n])
                print(runs[n].line(f"3./4. fan-out, {PRODUCTION_PROCESSES} pool processes"))

            flatten()  # here: one account at a time, a large close would take minutes
            trees = worker_ready(PRODUCTION_PROCESSES, 1, {"FANOUT_BATCH": "false"}, small)
            sequential = fan_out_measured(client, sim, fan[small], small, trees)
            pending.append(fan[small])
            print(
                sequential.line("3. sequential (SIGNAL_ACCOUNT_CONCURRENCY=1, FANOUT_BATCH=false)")
            )

            # 7. the large fan-out by the worker's pool processes
            by_processes: dict[int, FanOut] = {}
            for processes in PROCESSES:
                if processes == PRODUCTION_PROCESSES:
                    by_processes[processes] = runs[big]  # measured above, same worker
                    continue
                trees = worker_ready(processes, per_signal, {}, big)
                by_processes[processes] = fan_out_measured(client, sim, fan[big], big, trees)
                pending.append(fan[big])
                print(by_processes[processes].line(f"7. fan-out, {processes} pool processes"))
        finally:
            if work is not None:
                stop(work)
            stop(web)

        copy_ms = copy_figure(sim, owner, leader, followers, small)

    first = PROCESSES[0]
    rows = [
        Row(
            f"1. webhook acknowledge p99 at {RATE}/s, worker executing (nice {WORKER_NICE})",
            pct(acks, 99),
            25,
            "p99 < 25 ms",
            f"worker at the web's priority: p99 {pct(acks_even, 99):.1f} ms",
        ),
        Row(
            "2. webhook -> entry at the simulator, p50",
            pct(entry_ms, 50),
            30,
            "p50 < 30 ms",
            f"{len(entry_ms)} entries, latency 0",
        ),
        Row("2. webhook -> entry at the simulator, p99", pct(entry_ms, 99), 100, "p99 < 100 ms"),
        Row(
            f"3. one alert -> {small} accounts, {LATENCY_MS} ms latency",
            runs[small].ms,
            100,
            "< 100 ms (2x RTT)",
            f"sequential {sequential.ms:.0f} ms (x{sequential.ms / runs[small].ms:.1f}); "
            f"one round trip {trip:.0f} ms; load {runs[small].load:.1f}",
        ),
        Row(
            f"4. one alert -> {big} accounts, {LATENCY_MS} ms latency",
            runs[big].ms,
            1000,
            "< 1 s",
            f"load {runs[big].load:.1f}",
        ),
        Row(
            f"5. leader fill -> {small} followers, {LATENCY_MS} ms latency",
            copy_ms,
            100,
            "< 100 ms",
            "median of a buy and a sell",
        ),
    ]
    for n in SIZES:
        r = runs[n]
        rows.append(
            Row(
                f"6. CPU per account, worker, {n}-account fan-out",
                r.cpu_ms_per_account(),
                None,
                "printed",
                f"web {r.cpu_ms_per_account('web'):.1f}, simulator "
                f"{r.cpu_ms_per_account('simulator'):.1f} ms/acct in the same window",
            )
        )
    for processes, r in by_processes.items():
        rows.append(
            Row(
                f"7. {big} accounts, {processes} worker processes",
                r.ms,
                None,
                "speed-up printed",
                f"speed-up x{by_processes[first].ms / r.ms:.2f} vs {first}; "
                f"CPU {r.cpu_ms_per_account():.1f} ms/acct; load {r.load:.1f}",
            )
        )
    table(rows)
    stage_timings([signal_id for signal_id, _ in entries])
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
