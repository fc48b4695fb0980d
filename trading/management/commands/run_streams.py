"""``manage.py run_streams``: the ``streams`` process (DESIGN §2), the position monitor.

Runs until SIGTERM or SIGINT, then closes its sockets, lets evaluations in flight finish and
clears its heartbeat, so /healthz names it at once (a killed process's heartbeat goes stale).
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

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the position monitor: break-even and trailing stops on live quotes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--refresh-seconds",
            type=float,
            default=REFRESH_SECONDS,
            help="how often the working stops are read from the database",
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
        try:
            asyncio.run(_run(monitor))
        finally:
            try:
                heartbeat_clear(component="streams")
            except Exception:
                logger.exception("streams heartbeat could not be cleared")


async def _run(monitor: PositionMonitor) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await monitor.run(stop)
