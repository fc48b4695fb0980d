"""Secrets never reach a log line: the redacting filter, and a real uvicorn's access log."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

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


@pytest.mark.django_db(transaction=True)
def test_a_real_web_process_never_logs_a_webhook_token() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = f"secret-{uuid.uuid4().hex}"
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
            wait_for(
                lambda: "/webhooks/tradingview/" in log_path.read_text(errors="replace"),
                timeout=10,
                what="the access line",
            )
        finally:
            stop(proc)
    text = log_path.read_text(errors="replace")
    assert token not in text
    assert '"POST /webhooks/tradingview/[redacted]/ HTTP/1.1" 404' in text
