"""``python -m simulator --port 8100``: serve the Tradovate-protocol simulator."""

from simulator.cli import main

main()
