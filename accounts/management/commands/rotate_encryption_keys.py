"""Re-encrypt every stored secret with the newest key in FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.crypto import rotate_str
from accounts.models import BrokerConnection

SECRET_FIELDS = ("credentials_encrypted", "access_token_encrypted", "md_access_token_encrypted")


class Command(BaseCommand):
    help = "Re-encrypt broker credentials and tokens with the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for connection in BrokerConnection.objects.select_for_update():
                for name in SECRET_FIELDS:
                    value = getattr(connection, name)
                    if value != "":
                        setattr(connection, name, rotate_str(value))
                connection.save(update_fields=list(SECRET_FIELDS))
                count += 1
        self.stdout.write(f"re-encrypted the secrets of {count} connection(s)")
