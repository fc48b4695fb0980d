"""`make demo`'s alerts: a few round trips of the demo strategy sent through its real webhook,
so the execution-quality page, the strategy ranking and the signal log have figures of today.
Then it waits, quietly, until the demo stops (honcho ends every process when one exits)."""

from __future__ import annotations

import signal
import sys
import time
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands.seed_demo import DEMO_EMAIL
from trading.models import Strategy

SYMBOL = "MNQZ6"
READY_SECONDS = 90


def _wait_for(url: str, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            httpx.get(url, timeout=2)  # any answer: it is up
            return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise CommandError(f"{what} did not answer at {url} within {READY_SECONDS} s")
        time.sleep(1)


def _price() -> Decimal | None:
    """The simulator's last price of MNQ (what a TradingView {{close}} would say)."""
    state = httpx.get(f"{settings.SIMULATOR_URL}/_sim/state", timeout=5).json()
    value = state.get("prices", {}).get(SYMBOL)
    return None if value is None else Decimal(str(value))


class Command(BaseCommand):
    help = "Send the demo strategy a few alerts through its webhook, then wait (make demo)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--round-trips", type=int, default=3)
        parser.add_argument("--hold-seconds", type=float, default=8.0)
        parser.add_argument(
            "--settle-seconds", type=float, default=5.0, help="wait for the streams' first sync"
        )
        parser.add_argument("--exit", action="store_true", help="end once sent (tests)")

    def handle(self, *args: Any, **options: Any) -> None:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        strategy = Strategy.objects.filter(user__email=DEMO_EMAIL, name="MNQ demo").first()
        if strategy is None:
            raise CommandError("No demo strategy: run 'manage.py seed_demo' first.")
        webhook = f"{settings.SITE_URL}/webhooks/tradingview/{strategy.webhook_token}/"
        _wait_for(f"{settings.SITE_URL}/accounts/login/", "The web server")
        _wait_for(f"{settings.SIMULATOR_URL}/_sim/state", "The simulator")
        time.sleep(options["settle_seconds"])  # the streams' first sync: fills mirrored live
        run = int(time.time())
        for n in range(options["round_trips"]):
            side = "buy" if n % 2 == 0 else "sell"
            for action in (side, "close"):
                price = _price()
                # Its own id: two closes at one price are two alerts, not a duplicate.
                body = {"action": action, "ticker": "MNQ1!", "id": f"demo-{run}-{n}-{action}"}
                if price is not None:
                    body["price"] = str(price)
                answer = httpx.post(webhook, json=body, timeout=10)
                self.stdout.write(
                    f"demo alert {action} MNQ at {body.get('price', 'market')}: "
                    f"{answer.status_code} {answer.text[:120]}"
                )
                time.sleep(options["hold_seconds"])
        self.stdout.write("Demo alerts sent: see Performance > Execution quality.")
        while not options["exit"]:  # honcho would stop the whole demo if this ended
            time.sleep(3600)
