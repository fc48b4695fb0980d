"""Parsing what Whop sends us into typed values. Pure: no ORM, no I/O.

Whop has changed shapes before (D14): every field we rely on is checked, and a mismatch raises
``WhopShapeError`` naming the offending part (``data[3].user.email``) and what it held, so the
caller can count it, log it and show it, never skip it silently. Fields we do not use are not
checked. Both webhook envelopes are accepted: current ``{type, data}`` and legacy
``{action, data | body}``; both membership shapes too (nested ``user {email}`` / ``plan {id}``
and the legacy flat ``email`` / ``plan`` strings with ``valid``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KNOWN_STATUSES = frozenset(
    {
        "trialing",
        "active",
        "past_due",
        "canceling",
        "completed",
        "canceled",
        "expired",
        "unresolved",
        "drafted",
    }
)


class WhopShapeError(ValueError):
    """A Whop payload did not have the shape we rely on."""

    def __init__(self, path: str, problem: str, value: Any = None) -> None:
        self.path = path
        self.problem = problem
        shown = json.dumps(value, default=str)[:200]
        super().__init__(f"{path}: {problem} (got {shown})")


@dataclass(frozen=True)
class WhopMembership:
    whop_id: str
    status: str
    email: str | None
    whop_user_id: str
    plan_id: str
    product_id: str
    period_end: datetime | None
    cancel_at_period_end: bool


@dataclass(frozen=True)
class WhopEnvelope:
    event_id: str
    event_type: str
    envelope: str  # "current" | "legacy"
    data: dict[str, Any]


@dataclass(frozen=True)
class WhopPage:
    memberships: list[Any]  # raw items: each parsed on its own so one bad item is one error
    end_cursor: str | None
    has_next_page: bool | None


def _str(value: Any, path: str, *, required: bool = True) -> str:
    if isinstance(value, str) and (value != "" or not required):
        return value
    if value is None and not required:
        return ""
    raise WhopShapeError(
        path, "expected a non-empty string" if required else "expected a string", value
    )


def _id_of(value: Any, path: str, *, required: bool) -> str:
    """Whop sends related objects either as ``{"id": ...}`` (v1) or as a bare id (legacy)."""
    if isinstance(value, dict):
        return _str(value.get("id"), f"{path}.id", required=required)
    return _str(value, path, required=required)


def _time(value: Any, path: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise WhopShapeError(path, "expected a timestamp", value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise WhopShapeError(path, "expected an ISO-8601 time", value) from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise WhopShapeError(path, "expected a timestamp", value)


def parse_membership(raw: Any, path: str = "data") -> WhopMembership:
    """A membership from the REST API or a webhook (current or legacy shape)."""
    if not isinstance(raw, dict):
        raise WhopShapeError(path, "expected an object", raw)
    whop_id = _str(raw.get("id"), f"{path}.id")
    status_raw = raw.get("status")
    if status_raw is None and isinstance(raw.get("valid"), bool):
        status = "active" if raw["valid"] else "expired"  # legacy: only `valid` is reliable
    else:
        status = _str(status_raw, f"{path}.status")
        if status not in KNOWN_STATUSES:
            raise WhopShapeError(f"{path}.status", "unknown membership status", status)
    user = raw.get("user")
    if isinstance(user, dict):
        email_raw = user.get("email")
        email_path = f"{path}.user.email"
        whop_user_id = _str(user.get("id"), f"{path}.user.id", required=False)
    elif isinstance(user, str) or user is None:
        email_raw = raw.get("email")
        email_path = f"{path}.email"
        whop_user_id = user or ""
    else:
        raise WhopShapeError(f"{path}.user", "expected an object or an id", user)
    if email_raw is not None and not (isinstance(email_raw, str) and "@" in email_raw):
        raise WhopShapeError(email_path, "expected an e-mail address", email_raw)
    cancel = raw.get("cancel_at_period_end", False)
    if cancel is None:
        cancel = False
    if not isinstance(cancel, bool):
        raise WhopShapeError(f"{path}.cancel_at_period_end", "expected true or false", cancel)
    return WhopMembership(
        whop_id=whop_id,
        status=status,
        email=email_raw.strip().lower() if isinstance(email_raw, str) else None,
        whop_user_id=whop_user_id,
        plan_id=_id_of(raw.get("plan"), f"{path}.plan", required=False),
        product_id=_id_of(raw.get("product"), f"{path}.product", required=False),
        period_end=_time(raw.get("renewal_period_end"), f"{path}.renewal_period_end"),
        cancel_at_period_end=cancel,
    )


def parse_envelope(body: Any, *, header_id: str) -> WhopEnvelope:
    """The event around the data: ``{type, data}`` (current) or ``{action, data|body}``."""
    if not isinstance(body, dict):
        raise WhopShapeError("body", "expected a JSON object", body)
    if "type" in body:
        event_type = _str(body.get("type"), "type")
        envelope = "current"
        data = body.get("data")
        data_path = "data"
    elif "action" in body:
        event_type = _str(body.get("action"), "action")
        envelope = "legacy"
        data_path = "data" if "data" in body else "body"
        data = body.get(data_path)
    else:
        raise WhopShapeError("body", "neither `type` nor `action` present", list(body)[:10])
    if not isinstance(data, dict):
        raise WhopShapeError(data_path, "expected an object", data)
    body_id = body.get("id")
    event_id = body_id if isinstance(body_id, str) and body_id != "" else header_id
    return WhopEnvelope(event_id=event_id, event_type=event_type, envelope=envelope, data=data)


def payment_membership_id(data: dict[str, Any]) -> str:
    """The membership a payment belongs to: ``membership {id}``, ``membership`` or ``membership_id``."""
    if "membership" in data and data["membership"] is not None:
        return _id_of(data["membership"], "data.membership", required=True)
    return _str(data.get("membership_id"), "data.membership_id")


def parse_page(raw: Any) -> WhopPage:
    """One page of ``GET /memberships``: ``{"data": [...], "page_info": {"end_cursor"...}}``."""
    if not isinstance(raw, dict):
        raise WhopShapeError("response", "expected a JSON object", raw)
    items = raw.get("data")
    if not isinstance(items, list):
        raise WhopShapeError("response.data", "expected a list of memberships", items)
    info = raw.get("page_info")
    if not isinstance(info, dict):
        raise WhopShapeError("response.page_info", "expected an object", info)
    cursor = info.get("end_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise WhopShapeError("response.page_info.end_cursor", "expected a string or null", cursor)
    has_next = info.get("has_next_page")
    if has_next is not None and not isinstance(has_next, bool):
        raise WhopShapeError("response.page_info.has_next_page", "expected true/false", has_next)
    return WhopPage(memberships=items, end_cursor=cursor or None, has_next_page=has_next)
