"""Secret-shape system checks (D13 has the regression file; these cover each rule)."""

from __future__ import annotations

from cryptography.fernet import Fernet

from config.checks import fernet_key_problem, secret_problems

GOOD_SECRET = "x" * 20 + "Y" * 20 + "z" * 20


def _problems(**overrides: object) -> list[str]:
    args: dict[str, object] = {
        "secret_key": GOOD_SECRET,
        "secret_key_is_default": False,
        "encryption_keys": [Fernet.generate_key().decode()],
        "encryption_keys_from_env": True,
        "whop_api_key": "",
        "whop_webhook_secret": "",
        "production": True,
    }
    args.update(overrides)
    return [m.msg for m in secret_problems(**args)]  # type: ignore[arg-type]


def test_good_production_secrets_pass() -> None:
    assert _problems() == []


def test_development_defaults_are_fine_in_development_and_errors_in_production() -> None:
    dev = {"secret_key_is_default": True, "encryption_keys_from_env": False}
    assert _problems(production=False, **dev) == []
    errors = _problems(production=True, **dev)
    assert any("DJANGO_SECRET_KEY is not set" in e for e in errors)
    assert any("FIELD_ENCRYPTION_KEYS is not set" in e for e in errors)


def test_second_rotation_key_is_checked_too() -> None:
    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()[:-1]]
    (error,) = _problems(encryption_keys=keys)
    assert error.startswith("FIELD_ENCRYPTION_KEYS entry 2 is 43 characters")


def test_fernet_key_shapes() -> None:
    assert fernet_key_problem(Fernet.generate_key().decode()) is None
    assert "not url-safe base64" in str(fernet_key_problem("!" * 44))


def test_whop_values_with_whitespace_or_cut_short_are_errors() -> None:
    (error,) = _problems(whop_api_key="apik_" + "a" * 40 + " ")
    assert error.startswith("WHOP_API_KEY")
    (error,) = _problems(whop_webhook_secret="ws_" + "b" * 10)
    assert error.startswith("WHOP_WEBHOOK_SECRET")
    assert _problems(whop_api_key="apik_" + "a" * 60) == []
