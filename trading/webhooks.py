"""The TradingView webhook: validate, store, enqueue, answer. Never broker I/O here (D10).

`webhook_accept` is the whole of it, shared by two doors that answer the same:
- `webhook_asgi`, the door production uses: `config.asgi` sends ``POST /webhooks/tradingview/
  <token>/`` (with an allowed Host) straight here, past Django's middleware and per-request
  thread, in one hop to a worker thread (DESIGN §9: 200 alerts/s on 2 cores; measured in
  bench/signals.py). Nothing it skips applies to a webhook: no session, no CSRF (D12), no user.
- `tradingview_webhook`, the Django view at the same URL (tests' client, and anything else
  that reaches Django), exempt from CSRF on the view itself (D12).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.rate_limit import rate_take
from trading.alerts import MAX_BODY_BYTES
from trading.models import Strategy
from trading.services import signal_receive, signal_reject

logger = logging.getLogger(__name__)

WEBHOOK_PATH = re.compile(r"^/webhooks/tradingview/(?P<token>[^/]+)/$")
TOO_BIG = {"status": "rejected", "reason": f"The alert body is over {MAX_BODY_BYTES} bytes."}


def webhook_accept(*, token: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    """Store the alert for the strategy with this webhook token; (HTTP status, JSON answer)."""
    strategy = (
        Strategy.objects.filter(webhook_token=token)
        # enabled and archived: answered here; the symbol fields: intake's symbol check
        .only("pk", "enabled", "archived_at", "symbol_override", "symbol_allow_list")
        .first()
    )
    if strategy is None:
        return 404, {
            "status": "unknown",
            "reason": "No strategy has this webhook URL. Copy the URL again from the strategy page.",
        }
    if strategy.archived_at is not None:  # nothing stored: an archived strategy trades nothing
        return 410, {
            "status": "archived",
            "reason": f"This strategy was archived on {strategy.archived_at:%Y-%m-%d %H:%M} UTC: "
            "alerts to this URL are not stored or executed. Remove the alert in TradingView, "
            "or restore the strategy.",
        }
    if not strategy.enabled:
        return 409, {"status": "disabled", "reason": "This strategy is switched off."}
    if len(raw) > MAX_BODY_BYTES:
        return 413, TOO_BIG
    limit = settings.WEBHOOK_ALERTS_PER_MINUTE
    wait = rate_take(key=f"webhook:{strategy.pk}", limit=limit, window_seconds=60)
    if wait is not None:
        reason = (
            f"Rate limited: this webhook URL received more than {limit} alerts within a "
            f"minute; this one was not executed. Alerts are taken again in {wait} s. Check "
            "that TradingView alerts are not firing in a loop."
        )
        signal = signal_reject(
            strategy=strategy, raw=raw, content_type=content_type, reason=reason, keep_chars=2000
        )
        return 429, {
            "status": "rejected",
            "signal_id": signal.pk,
            "reason": reason,
            "retry_after": wait,
        }
    received = signal_receive(strategy=strategy, raw=raw, content_type=content_type)
    body: dict[str, Any] = {"status": received.status, "signal_id": received.signal.pk}
    if received.status == "rejected":
        body["reason"] = received.reason
        return 400, body
    return 200, body


@csrf_exempt  # on the view itself: the literal path is tested with CSRF checks on (D12)
@require_POST
def tradingview_webhook(request: HttpRequest, token: str) -> JsonResponse:
    status, body = webhook_accept(
        token=token, raw=request.body, content_type=request.content_type or ""
    )
    response = JsonResponse(body, status=status)
    if "retry_after" in body:
        response["Retry-After"] = str(body["retry_after"])
    return response


# --- the ASGI door ------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def webhook_token_for(scope: Scope) -> str | None:
    """The token when this request is one `webhook_asgi` answers (else Django answers it: a
    GET gets Django's 405, a bad Host Django's 400)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = WEBHOOK_PATH.match(scope["path"])
    if match is None:
        return None
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:  # as Django's HttpRequest.get_host
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    if domain == "" or not validate_host(domain, allowed):
        return None
    return match["token"]


def _accept_in_thread(token: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    try:
        return webhook_accept(token=token, raw=raw, content_type=content_type)
    except Exception as exc:  # never a bare 500: say what failed; TradingView does not retry
        logger.exception("a TradingView alert could not be stored")
        return 503, {
            "status": "error",
            "reason": f"Bracketeer could not store the alert ({type(exc).__name__}). "
            "Nothing was executed; send it again once /healthz is green.",
        }
    finally:
        connections.close_all()  # back to the pool, as Django does when a request finishes


_accept = sync_to_async(_accept_in_thread, thread_sensitive=False)


async def webhook_asgi(scope: Scope, receive: Receive, send: Send, *, token: str) -> None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        more = message.get("more_body", False)
    content_type = next(
        (v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"), ""
    ).split(";")[0]
    if size > MAX_BODY_BYTES:
        status, body = 413, TOO_BIG
    else:
        status, body = await _accept(token, b"".join(chunks), content_type)
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if "retry_after" in body:
        headers.append((b"retry-after", str(body["retry_after"]).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
