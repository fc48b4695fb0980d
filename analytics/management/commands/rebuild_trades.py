from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from analytics.services import trades_rebuild_all


class Command(BaseCommand):
    help = (
        "Build every trade again from the recorded fills (deterministic: same fills, same trades)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = trades_rebuild_all()
        self.stdout.write(f"{count} trades built from the fills.")
