"""`make demo`'s alerts (development tooling, not app code): it plays TradingView, sending the
demo strategy a few round trips through its real webhook over HTTP, so the execution-quality
page, the strategy ranking and the signal log have figures of today. Then it waits, quietly,
until the demo stops (honcho ends every process when one exits).

    python scripts/demo_alerts.py [--round-trips 3] [--hold-seconds 8] [--exit]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SYMBOL = "MNQZ6"
READY_SECONDS = 90


class DemoAlertsError(Exception):
    pass


def _wait_for(url: str, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            httpx.get(url, timeout=2)  # any answer: it is up
            return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise DemoAlertsError(f"{what} did not answer at {url} within {READY_SECONDS} s")
        time.sleep(1)


def _price(simulator_url: str) -> Decimal | None:
    """The simulator's last price of MNQ (what a TradingView {{close}} would say)."""
    state = httpx.get(f"{simulator_url}/_sim/state", timeout=5).json()
    value = state.get("prices", {}).get(SYMBOL)
    return None if value is None else Decimal(str(value))


def demo_alerts_send(
    *, site_url: str, simulator_url: str, round_trips: int, hold_seconds: float, settle: float
) -> list[str]:
    """Send the demo strategy ``round_trips`` entries (alternately long and short), each closed
    ``hold_seconds`` later, through its webhook; each alert with its own id and the simulator's
    last price. Returns one line per alert: what was sent and the answer."""
    import django

    django.setup()
    from accounts.management.commands.seed_demo import DEMO_EMAIL
    from trading.models import Strategy

    strategy = Strategy.objects.filter(user__email=DEMO_EMAIL, name="MNQ demo").first()
    if strategy is None:
        raise DemoAlertsError("No demo strategy: run 'manage.py seed_demo' first.")
    webhook = f"{site_url}/webhooks/tradingview/{strategy.webhook_token}/"
    _wait_for(f"{site_url}/accounts/login/", "The web server")
    _wait_for(f"{simulator_url}/_sim/state", "The simulator")
    time.sleep(settle)  # the streams' first sync: fills mirrored live
    run, lines = int(time.time()), []
    for n in range(round_trips):
        side = "buy" if n % 2 == 0 else "sell"
        for action in (side, "close"):
            price = _price(simulator_url)
            # Its own id: two closes at one price are two alerts, not a duplicate.
            body = {"action": action, "ticker": "MNQ1!", "id": f"demo-{run}-{n}-{action}"}
            if price is not None:
                body["price"] = str(price)
            answer = httpx.post(webhook, json=body, timeout=10)
            lines.append(
                f"demo alert {action} MNQ at {body.get('price', 'market')}: "
                f"{answer.status_code} {answer.text[:120]}"
            )
            print(lines[-1], flush=True)
            time.sleep(hold_seconds)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--round-trips", type=int, default=3)
    parser.add_argument("--hold-seconds", type=float, default=8.0)
    parser.add_argument("--settle-seconds", type=float, default=5.0)
    parser.add_argument("--exit", action="store_true", help="end once sent")
    options = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from django.conf import settings

    try:
        demo_alerts_send(
            site_url=settings.SITE_URL,
            simulator_url=settings.SIMULATOR_URL,
            round_trips=options.round_trips,
            hold_seconds=options.hold_seconds,
            settle=options.settle_seconds,
        )
    except DemoAlertsError as exc:
        print(f"demo alerts: {exc}", file=sys.stderr)
        return 1
    print("Demo alerts sent: see Performance > Execution quality.", flush=True)
    while not options.exit:  # honcho would stop the whole demo if this ended
        time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
