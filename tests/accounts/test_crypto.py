from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from accounts.crypto import DecryptionError, decrypt_str, encrypt_str
from accounts.models import BrokerConnection
from trading.brokers.services import broker_connection_create, connection_credentials

pytestmark = pytest.mark.django_db


def test_credentials_are_stored_encrypted_and_read_back(user) -> None:
    connection = broker_connection_create(
        user=user,
        label="L",
        broker="tradovate_demo",
        username="trader",
        password="hunter2-secret",
        cid=42,
        sec="s3cr3t-sec",
    )
    stored = BrokerConnection.objects.get(pk=connection.pk)
    assert "hunter2-secret" not in stored.credentials_encrypted
    assert "s3cr3t-sec" not in stored.credentials_encrypted
    credentials = connection_credentials(connection=stored)
    assert (credentials.password, credentials.cid, credentials.sec) == (
        "hunter2-secret",
        42,
        "s3cr3t-sec",
    )
    assert credentials.device_id == str(stored.device_id)
    assert "hunter2" not in str(stored) and "hunter2" not in repr(stored)


def test_key_rotation_keeps_old_secrets_readable_and_re_encrypts(user, settings) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    connection = broker_connection_create(
        user=user, label="R", broker="simulator", username="demo", password="demo-password"
    )
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert connection_credentials(connection=connection).password == "demo-password"
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: still readable
    connection.refresh_from_db()
    assert connection_credentials(connection=connection).password == "demo-password"


def test_a_secret_from_an_unknown_key_is_a_clear_error(settings) -> None:
    token = encrypt_str("x")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError) as error:
        decrypt_str(token)
    assert "FIELD_ENCRYPTION_KEYS" in str(error.value)
