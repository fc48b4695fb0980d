"""Identical alerts arriving at the same moment are one signal (issue 9, item 1).

Fifty identical bodies are posted concurrently to the door production uses (a real uvicorn
serving ``config.asgi``, two processes so the posts really race across connections and
processes); a real worker executes what was accepted on the simulator. Exactly one answer is
``accepted`` and the simulator holds one entry. Before the fix (check-then-insert without a
lock) 2-6 of 10 were accepted.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import ROOT, process_env, running, stop, wait_for, worker_cmd
from tests.signals.helpers import position
from tests.sim_fixtures import free_port
from trading.models import Order, Signal, Strategy, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POSTS = 50
THREADS = 50


@pytest.fixture
def web(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SIMULATOR_URL", sim.base_url)
    port = free_port()
    log_path = Path("/tmp") / f"bracketeer-test-web-dedup-{uuid.uuid4().hex[:8]}.log"
    cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--workers", "2"],
            cwd=ROOT,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        try:
            wait_for(up, timeout=60, what="uvicorn to answer")
            yield base
        finally:
            stop(proc)


def _post_at_once(url: str, body: bytes) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        # One connection per post (no pooling), all released at the same moment.
        start = asyncio.Event()

        async def one() -> dict[str, Any]:
            async with httpx.AsyncClient(timeout=30) as client:
                await start.wait()
                answer = await client.post(url, content=body)
                assert answer.status_code == 200, answer.text
                return dict(answer.json())

        tasks = [asyncio.create_task(one()) for _ in range(POSTS)]
        await asyncio.sleep(0.2)
        start.set()
        return list(await asyncio.gather(*tasks))

    return asyncio.run(go())


def _add_on_repeat(strategy: Strategy) -> None:
    # "same direction: add": every duplicate let through would add a contract.
    Strategy.objects.filter(pk=strategy.pk).update(on_same_direction="add", add_size=1)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "buy", "ticker": "MNQZ6"},
        {"action": "buy", "ticker": "MNQZ6", "id": "alert-7"},
    ],
    ids=["same-body", "same-alert-id"],
)
def test_fifty_identical_alerts_at_once_make_one_signal_and_one_entry(
    web: str,
    strategy: Strategy,
    trader_account: TraderAccount,
    sim: Any,
    body: dict[str, str],
) -> None:
    _add_on_repeat(strategy)
    sim.control.set_price("MNQZ6", "18000.00")
    url = f"{web}/webhooks/tradingview/{strategy.webhook_token}/"
    with running(worker_cmd(queues="signals", concurrency=2), log_name="worker-dedup"):
        answers = _post_at_once(url, json.dumps(body).encode())
        statuses = [a["status"] for a in answers]
        assert statuses.count("accepted") == 1, statuses
        assert statuses.count("duplicate") == POSTS - 1, statuses
        assert {a["signal_id"] for a in answers} == {Signal.objects.get().pk}
        wait_for(
            lambda: Signal.objects.get().status in Signal.FINAL_STATUSES,
            timeout=60,
            what="the signal to be executed",
        )
    assert Signal.objects.count() == 1
    assert position(sim) == 1
    placed = [o for o in sim.control.state()["orders"] if o["clOrdId"].endswith("-entry")]
    assert len(placed) == 1, placed
    assert Order.objects.filter(role=Order.Role.ENTRY).count() == 1


def test_identical_alerts_at_once_through_the_django_view_make_one_signal(
    strategy: Strategy,
) -> None:
    """The Django view (same URL, reached when the ASGI door is not in front) shares the intake:
    fifty threads, each on its own database connection, post the same body at once."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection
    from django.test import Client

    barrier = Barrier(THREADS)
    path = f"/webhooks/tradingview/{strategy.webhook_token}/"

    def one(_: int) -> str:
        try:
            barrier.wait()
            answer = Client().post(path, data=b'{"action":"buy","ticker":"MNQZ6"}', content_type="")
            return str(answer.json()["status"])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(one, range(THREADS)))
    assert statuses.count("accepted") == 1, statuses
    assert Signal.objects.count() == 1
