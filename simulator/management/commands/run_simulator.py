"""``manage.py run_simulator``: the same entry point as ``python -m simulator``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from simulator.cli import add_arguments, run


class Command(BaseCommand):
    help = "Serve the Tradovate-protocol simulator (paper broker for the demo and tests)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run(options)
