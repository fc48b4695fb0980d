"""The live socket's origin check: the page that opens it must be ours, scheme, host and port.

Channels' ``AllowedHostsOriginValidator`` compares host names only: a page served by another
program on the same host (``http://127.0.0.1:9999``) could open a socket to ours with the
visitor's session cookie (cookies are not scoped by port). Here the Origin must be the same
origin as the socket's own address, as Django's CSRF check requires of a POST: the scheme
(``wss`` means https; uvicorn's ``--proxy-headers`` sets it from a trusted proxy), the Host
header (itself one of ``ALLOWED_HOSTS``) and the port, default ports filled in; or one of
``CSRF_TRUSTED_ORIGINS`` exactly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return str(value.decode("latin1"))
            except UnicodeDecodeError:
                return None
    return None


def origin_parse(text: str) -> Origin | None:
    """``(scheme, host, port)`` of an origin such as ``https://example.com``, or None."""
    try:
        parts = urlsplit(text.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        return None
    return parts.scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[parts.scheme]


def socket_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin of the socket's own address (its Host header, if an allowed host)."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return origin_parse(f"{scheme}://{host}")


def origin_allowed(scope: dict[str, Any]) -> bool:
    """True when the socket's Origin header is its own origin or a trusted one."""
    sent = _header(scope, b"origin")
    origin = origin_parse(sent) if sent else None
    if origin is None:
        return False
    if origin == socket_origin(scope):
        return True
    return origin in {origin_parse(o) for o in settings.CSRF_TRUSTED_ORIGINS}


class SameOriginValidator:
    """ASGI middleware for WebSockets: refuses the handshake unless ``origin_allowed``."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator is for WebSocket connections only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
