"""A logging filter that removes secrets from every record before any handler sees it."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    # key=value and "key": "value" for anything that looks like a secret.
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|secret|sec|token|access_?token|md_?access_?token|"
            r"api_?key|p-ticket|authorization)[\"']?\s*[:=]\s*[\"']?)([^\"'\s,}&]+)"
        ),
        r"\1[redacted]",
    ),
    # A strategy's webhook URL is its secret: whoever has it can send its alerts (access logs).
    (re.compile(r"(/webhooks/tradingview/)[^/\s\"?]+"), r"\1[redacted]"),
    # Tradovate websocket authorize frames: authorize\n<id>\n\n<token>
    (re.compile(r"(authorize\\?n\d+\\?n\\?n)\S+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
