"""Secrets never reach a log line: one redactor for every record and every formatted line.

The rule for URLs is read from the URL conf, so a new secret-carrying URL is covered without
touching this file: every URL parameter named in ``SECRET_PARAMETERS`` (a strategy's webhook
token, an activation token, a password-reset link's uid and token) is replaced by
``[redacted]`` wherever the path appears (uvicorn's access lines, django.request's and the CSRF
warnings, tracebacks), once the apps are loaded (nothing is served before). Beside it:
passwords, tokens and keys as key=value or JSON, bearer tokens, Tradovate's websocket
authorize frames.

`RedactSecretsFilter` cleans each record (its message) for every handler; `RedactingFormatter`
cleans the whole formatted line, traceback included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import cache

SECRET_PARAMETERS = frozenset({"token", "uidb64", "key"})
REDACTED = "[redacted]"
_SEGMENT = r"[^/\s\"'?#]+"

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
    # Bracketeer API keys wherever they appear (bk_ and the secret; see api/services.py).
    # The public prefix (bk_ and 8 hex characters) stays: it tells keys apart.
    (re.compile(r"\b(bk_[0-9a-f]{8})_[A-Za-z0-9_-]+"), r"\1_[redacted]"),
    # Tradovate websocket authorize frames: authorize\n<id>\n\n<token>
    (re.compile(r"(authorize\\?n\d+\\?n\\?n)\S+"), r"\1[redacted]"),
]

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _route_regex(route: str, literals: str) -> re.Pattern[str] | None:
    """A regex matching ``route`` (a Django path() route, from its prefix) in a log line, with
    each secret parameter a group; None when the route carries no secret. A parameter never
    matches one of the URL conf's own words (``literals``: ``resend`` in
    /accounts/activate/resend/ is a page, not a token)."""
    parts, secret, at = [], False, 0
    for match in _PARAMETER.finditer(route):
        parts.append(re.escape(route[at : match.start()]))
        if match["name"] in SECRET_PARAMETERS:
            parts.append(f"(?!(?:{literals})(?:/|\\s|$))(?P<s{len(parts)}>{_SEGMENT})")
            secret = True
        else:
            parts.append(_SEGMENT)
        at = match.end()
    if not secret:
        return None
    parts.append(re.escape(route[at:].rstrip("/")))
    return re.compile("/" + "".join(parts))


def _routes(patterns: Sequence[object], prefix: str = "") -> list[str]:
    from django.urls import URLPattern, URLResolver

    found: list[str] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


@cache
def secret_url_patterns() -> tuple[re.Pattern[str], ...]:
    """Every route of the URL conf with a secret parameter, as regexes (read once)."""
    from django.urls import get_resolver

    routes = _routes(get_resolver().url_patterns)
    words = {w for route in routes for w in route.split("/") if w and not _PARAMETER.search(w)}
    literals = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    regexes = (_route_regex(route, literals) for route in routes)
    return tuple(r for r in regexes if r is not None)


def _mask(match: re.Match[str]) -> str:
    text, start = match.group(0), match.start()
    out, at = [], 0
    for name, value in match.groupdict().items():
        if value is None:
            continue
        begin, end = match.start(name) - start, match.end(name) - start
        out.append(text[at:begin] + REDACTED)
        at = end
    return "".join(out) + text[at:]


def _url_patterns() -> tuple[re.Pattern[str], ...]:
    from django.apps import apps

    if not apps.ready:
        return ()
    try:
        return secret_url_patterns()
    except Exception:  # the URL conf itself failing to load is logged: never hide that line
        return ()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for pattern in _url_patterns():
        text = pattern.sub(_mask, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """The formatted line, traceback and all, through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
