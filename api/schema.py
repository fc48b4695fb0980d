"""How every operation is documented: a summary, a description for users (never a developer
docstring), at least one example, and the error answers it may give in the one error body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from api.errors import ErrorSerializer

_ERROR_WORDS = {
    400: (
        "Invalid input: `fields` names each problem.",
        "invalid",
        "Some fields are not valid: see fields.",
        {"name": ["This field is required."]},
    ),
    401: (
        "No key, or the key is invalid, revoked or expired.",
        "authentication_failed",
        "This API key was revoked. Create a new one on the API keys page.",
        {},
    ),
    403: (
        "The key's scope or your plan does not allow this.",
        "read_only_key",
        "This API key has the read scope: it can only read. Use a key with the trade scope to change things or act.",
        {},
    ),
    404: (
        "No such object among yours (another user's id answers the same), or no such page.",
        "not_found",
        "Not found (or not yours).",
        {},
    ),
    409: (
        "What is open changed since you read it: read again and retry.",
        "conflict",
        "The state changed; read it again and retry.",
        {},
    ),
    429: (
        "Too many requests for this key: wait the `Retry-After` seconds.",
        "throttled",
        "Request was throttled. Expected available in 42 seconds.",
        {},
    ),
}


def _error(status: int) -> OpenApiResponse:
    words, code, message, fields = _ERROR_WORDS[status]
    return OpenApiResponse(
        response=ErrorSerializer,
        description=words,
        examples=[
            OpenApiExample(
                f"Error {status}",
                value={"error": {"code": code, "message": message, "fields": fields}},
                response_only=True,
                status_codes=[str(status)],
            )
        ],
    )


def doc(
    *,
    summary: str,
    description: str,
    response: Any = None,
    examples: list[OpenApiExample],
    request: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    parameters: list[OpenApiParameter] | None = None,
) -> Any:
    """``extend_schema`` with the answers every endpoint shares (401, 429) and ``errors``."""
    responses: dict[int, Any] = {status: response}
    if isinstance(response, serializers.ListSerializer):  # a list: bad filters, no such page
        errors = (*errors, 400, 404)
    for code in sorted({401, 429, *errors}):
        responses[code] = _error(code)
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        examples=examples,
        parameters=parameters or [],
    )


def example(name: str, value: Any, *, request: bool = False, status: int = 200) -> OpenApiExample:
    if request:
        return OpenApiExample(name, value=value, request_only=True)
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)])


DATE_FROM = OpenApiParameter(
    "date_from",
    OpenApiTypes.DATE,
    description="First day (YYYY-MM-DD, inclusive) in your time zone.",
)
DATE_TO = OpenApiParameter(
    "date_to", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD, inclusive) in your time zone."
)
STRATEGY = OpenApiParameter("strategy", int, description="Only this strategy's (its id).")
ACCOUNT = OpenApiParameter("account", int, description="Only this trading account's (its id).")
