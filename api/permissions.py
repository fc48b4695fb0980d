"""What a key's scope allows: a read key only reads."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.models import ApiKey


class ApiKeyScopePermission(BasePermission):
    message = (
        "This API key has the read scope: it can only read. Use a key with the trade scope "
        "to change things or act."
    )
    code = "read_only_key"

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if isinstance(key, ApiKey) and key.scope != ApiKey.Scope.TRADE:
            return request.method in SAFE_METHODS
        return True
