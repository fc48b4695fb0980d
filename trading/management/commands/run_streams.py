"""``manage.py run_streams``: the ``streams`` process (DESIGN §2): the position monitor and the
user streams, on one asyncio loop.

- `trading.monitor_runner.PositionMonitor`: market-data sockets, break-even and trailing.
- `trading.user_streams.UserStreams`: one user WebSocket per broker login this process holds
  the Redis lease of, every event applied in order by ``trading.mirror.mirror_apply``. Several
  processes may run: each login is streamed by exactly one of them.

Both share one connect gate. Runs until SIGTERM or SIGINT, then closes its sockets, lets
evaluations and queued events finish, frees its leases and clears its heartbeat, so /healthz
names it at once (a killed process's heartbeat goes stale; its leases run out and another
process takes its logins over).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from config.heartbeat import heartbeat_clear
from config.startup import run_startup_checks
from trading.monitor_runner import HEARTBEAT_SECONDS, REFRESH_SECONDS, PositionMonitor
from trading.user_streams import UserStreams

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the streams process: the broker user streams (mirrored) and the position "
        "monitor (break-even and trailing stops on live quotes)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--refresh-seconds",
            type=float,
            default=REFRESH_SECONDS,
            help="how often the working stops and the logins to stream are read from the database",
        )
        parser.add_argument(
            "--heartbeat-seconds",
            type=float,
            default=HEARTBEAT_SECONDS,
            help="how often the streams heartbeat is written (/healthz)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run_startup_checks()
        monitor = PositionMonitor(
            refresh_seconds=options["refresh_seconds"],
            heartbeat_seconds=options["heartbeat_seconds"],
        )
        streams = UserStreams(gate=monitor.gate, refresh_seconds=options["refresh_seconds"])
        try:
            asyncio.run(_run(monitor, streams))
        finally:
            try:
                heartbeat_clear(component="streams")
            except Exception:
                logger.exception("streams heartbeat could not be cleared")


async def _run(monitor: PositionMonitor, streams: UserStreams) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with asyncio.TaskGroup() as group:  # one crashing stops the other, and the process
        group.create_task(monitor.run(stop))
        group.create_task(streams.run(stop))
