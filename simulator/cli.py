"""Command line of the simulator, shared by ``python -m simulator`` and ``manage.py run_simulator``."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from simulator.app import Config, create_app


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", type=int, default=7, help="seed of the price walk")
    parser.add_argument(
        "--walk-ms", type=int, default=0, help="move touched contracts every N ms (0: never)"
    )
    parser.add_argument("--heartbeat-ms", type=int, default=2500, help="server 'h' frame interval")
    parser.add_argument(
        "--client-timeout-ms",
        type=int,
        default=10000,
        help="close a WebSocket whose client sent nothing for this long",
    )
    parser.add_argument(
        "--demo-accounts",
        default="DEMO1001,DEMO1002",
        help="the demo login's accounts, comma-separated (ids from 1001 in this order)",
    )
    parser.add_argument(
        "--demo-history-days",
        type=int,
        default=0,
        help="book this many past trading days of trades on the demo accounts at start-up "
        "(seeded by --seed; 0: none)",
    )
    parser.add_argument("--log-level", default="warning")


def run(options: dict[str, Any]) -> None:
    """Serve the simulator until interrupted (single process, state in memory)."""
    import uvicorn

    level = str(options.get("log_level", "warning"))
    logging.basicConfig(level=level.upper())
    config = Config(
        heartbeat_ms=int(options.get("heartbeat_ms", 2500)),
        client_timeout_ms=int(options.get("client_timeout_ms", 10000)),
        walk_ms=int(options.get("walk_ms", 0)),
        seed=int(options.get("seed", 7)),
        demo_accounts=tuple(
            name.strip()
            for name in str(options.get("demo_accounts") or "DEMO1001,DEMO1002").split(",")
            if name.strip()
        ),
        demo_history_days=int(options.get("demo_history_days") or 0),
    )
    host, port = str(options.get("host", "127.0.0.1")), int(options.get("port", 8100))
    print(  # noqa: T201
        f"Tradovate simulator on http://{host}:{port}/v1 (ws://{host}:{port}/v1/websocket, "
        f"market data ws://{host}:{port}/md/v1/websocket)"
    )
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=level,
        ws_max_size=64 * 1024 * 1024,
        timeout_graceful_shutdown=2,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    add_arguments(parser)
    run(vars(parser.parse_args(argv)))
