"""Secrets never reach a log line: the redacting filter, and a real uvicorn's access log."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.logging import redact
from tests.processes import ROOT, process_env, stop, wait_for


def test_redact_removes_tokens_passwords_and_webhook_urls() -> None:
    text = redact(
        "POST /webhooks/tradingview/AbC123_-xyz/ 200; Authorization: Bearer eyJhbGci.x.y; "
        '{"password": "hunter2", "accessToken": "tok"}'
    )
    for secret in ("AbC123_-xyz", "eyJhbGci", "hunter2", '"tok"'):
        assert secret not in text
    assert "/webhooks/tradingview/[redacted]/" in text


def test_every_url_with_a_secret_parameter_is_redacted_by_one_rule() -> None:
    """The rule comes from the URL conf: each parameter named token, uidb64 or key; a page of
    the same shape (/accounts/activate/resend/) keeps its name."""
    from config.logging import _route_regex, secret_url_patterns

    text = redact(
        "GET /accounts/activate/MQ:1v:abcSECRET/ 200; /accounts/password-reset/NDI/c7-SECRET/ "
        "/accounts/activate/resend/ /accounts/password-reset/sent/ "
        "Forbidden (CSRF cookie not set.): /accounts/activate/xyzSECRET/"
    )
    assert "SECRET" not in text and "NDI" not in text
    assert "/accounts/activate/resend/" in text and "/accounts/password-reset/sent/" in text
    assert len(secret_url_patterns()) >= 3  # webhook, activation, password reset
    rule = _route_regex("api/keys/<str:key>/rotate/", literals="keys|rotate")
    assert rule is not None and rule.search("POST /api/keys/bk_live_123/rotate/")
    assert _route_regex("trading/signals/<int:pk>/", literals="signals") is None


def test_an_api_key_keeps_its_public_prefix_only() -> None:
    text = redact("key bk_1a2b3c4d_Zx9-Qq_secretpart used; curl -H 'Authorization: Bearer bk_")
    assert "secretpart" not in text and "bk_1a2b3c4d_[redacted]" in text


@pytest.mark.django_db
def test_the_real_api_docs_pages_get_their_relaxed_policy_and_other_pages_not(
    client: Any,
) -> None:
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "'unsafe-inline'" in docs["Content-Security-Policy"]
    login = client.get("/accounts/login/")
    assert "'unsafe-inline'" not in login["Content-Security-Policy"]


@pytest.mark.django_db(transaction=True)
def test_a_real_web_process_never_logs_a_url_secret() -> None:
    """Activation and password-reset links and webhook URLs, each through a real uvicorn:
    its access lines, Django's request and CSRF warnings: none shows the secret."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = f"secret-{uuid.uuid4().hex}"
    uid = f"uid{uuid.uuid4().hex[:10]}"
    log_path = Path("/tmp") / f"bracketeer-test-web-redact-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)],
            cwd=ROOT,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"

            def up() -> bool:
                try:
                    return httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
                except httpx.HTTPError:
                    return False

            wait_for(up, timeout=60, what="uvicorn to answer")
            answer = httpx.post(f"{base}/webhooks/tradingview/{token}/", content=b"{}", timeout=10)
            assert answer.status_code == 404  # no strategy has it; the line is logged anyway
            # Every URL that carries a secret, as a browser (or a probe) would use it: GET, and
            # POST without a CSRF token (django.security.csrf warns with the path).
            secret_paths = [
                f"/accounts/activate/{token}/",
                f"/accounts/password-reset/{uid}/{token}/",
                f"/webhooks/tradingview/{token}/",
            ]
            for path in secret_paths:
                httpx.get(f"{base}{path}", timeout=10)
                httpx.post(f"{base}{path}x/", data={"a": "b"}, timeout=10)  # a 404, logged
                httpx.post(f"{base}{path}", data={"new_password1": "x"}, timeout=10)
            wait_for(
                lambda: log_path.read_text(errors="replace").count("[redacted]") >= 9,
                timeout=10,
                what="the access lines",
            )
        finally:
            stop(proc)
    text = log_path.read_text(errors="replace")
    assert token not in text and uid not in text
    assert '"POST /webhooks/tradingview/[redacted]/ HTTP/1.1" 404' in text
    assert '"GET /accounts/activate/[redacted]/ HTTP/1.1" 200' in text
    assert "Forbidden (CSRF cookie not set.): /accounts/activate/[redacted]/" in text
    assert "/accounts/password-reset/[redacted]/[redacted]/" in text
