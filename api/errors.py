"""One error body for every API failure: ``{"error": {"code", "message", "fields"}}``.

``fields`` maps a field name to its messages (validation errors; ``non_field_errors`` for the
request as a whole, ``take_profits.1.qty`` for a nested one) and is ``{}`` otherwise. The
status codes and headers are DRF's (``Retry-After`` on 429, ``WWW-Authenticate`` on 401).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from billing.limits import PlanLimitError


class PlanLimitRefused(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "plan_limit"
    default_detail = "Your plan does not allow this."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The state changed; read it again and retry."


MESSAGES = {
    "invalid": "Some fields are not valid: see fields.",
    "not_found": "Not found (or not yours).",
}


def _flatten(detail: Any, path: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = (
                "non_field_errors" if key in ("__all__", "non_field_errors") and not path else key
            )
            found.update(_flatten(value, f"{path}.{name}" if path else str(name)))
        return found
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {path or "non_field_errors": [str(item) for item in detail]}
        found = {}
        for index, item in enumerate(detail):
            if item:
                found.update(_flatten(item, f"{path}.{index}" if path else str(index)))
        return found
    return {path or "non_field_errors": [str(detail)]}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(MESSAGES["not_found"])
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, PlanLimitError):
        exc = PlanLimitRefused(str(exc))
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # a 500 stays Django's (logged, no details to the caller)
    fields: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        code, fields = "invalid", _flatten(exc.detail)
        message = MESSAGES["invalid"]
        if list(fields) == ["non_field_errors"]:
            message = " ".join(fields["non_field_errors"])
    else:
        code, message = _code(exc), str(exc.detail)
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


class ErrorBodySerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text="A stable machine-readable code: invalid, not_authenticated, "
        "authentication_failed, permission_denied, read_only_key, plan_limit, not_found, "
        "method_not_allowed, conflict, throttled, …"
    )
    message = serializers.CharField(help_text="What went wrong, in words for a person.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → its messages (validation errors only; otherwise empty).",
    )


class ErrorSerializer(serializers.Serializer[Any]):
    error = ErrorBodySerializer()
