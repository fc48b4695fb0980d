"""``Authorization: Bearer <key>`` for the public API (session login still works in a browser)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from api.models import ApiKey
from api.services import ApiKeyRefused, api_key_authenticate


class ApiKeyAuthentication(BaseAuthentication):
    """``request.user`` is the key's owner and ``request.auth`` the ``ApiKey``. A request
    without a Bearer header is left to the next authenticator (the browser session)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the key as “Authorization: Bearer <key>”.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid API key.") from None
        try:
            key = api_key_authenticate(secret=secret)
        except ApiKeyRefused as exc:
            raise AuthenticationFailed(str(exc)) from None
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from Settings → API keys, sent as "
            "`Authorization: Bearer bk_…`. Read keys may only read; trade keys may also "
            "change things and act (close positions, send alerts).",
        }
