"""Writes for trading: receiving alerts, switching traders. Each says what it guarantees."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Func, TextField, Value
from django.utils import timezone

from accounts.models import User
from trading.alerts import AlertError, decode_body, parse_alert
from trading.intake import alert_symbol_check
from trading.models import Signal, Strategy, Trader


@dataclass(frozen=True)
class Received:
    status: str  # "accepted" | "duplicate" | "rejected"
    signal: Signal
    reason: str = ""


def stored_text(raw: bytes) -> str:
    """A received body as text the database can always keep: bytes that are not UTF-8 become
    U+FFFD and a NUL (which PostgreSQL's text refuses) becomes U+2400, "␀", visible in the
    signal log."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\u2400")


def _body_key(strategy: Strategy, raw: bytes) -> str:
    return hashlib.sha256(f"{strategy.pk}:".encode() + raw).hexdigest()


def signal_receive(
    *, strategy: Strategy, raw: bytes, content_type: str = "", is_test: bool = False
) -> Received:
    """Store the alert (good or bad) and enqueue its execution after commit. No broker I/O.

    Exactly once: an alert ``id`` makes the key; without one, the same body for the same
    strategy within SIGNAL_DEDUP_WINDOW_SECONDS is a duplicate delivery, also when the copies
    arrive at the same moment on different connections and processes (the id is a unique key;
    a body is checked and stored under a lock on strategy + body). A duplicate answers
    with the first signal and executes nothing. A bad alert is stored as rejected with the
    reason, so the subscriber can see it in the signal log.
    """
    text = stored_text(raw)
    content_type = content_type.replace("\x00", "")
    try:
        parsed = parse_alert(decode_body(raw))
        alert_symbol_check(strategy=strategy, alert=parsed)
    except AlertError as exc:
        signal = signal_reject(
            strategy=strategy, raw=raw, content_type=content_type, reason=str(exc), is_test=is_test
        )
        return Received(status="rejected", signal=signal, reason=str(exc))
    fields = {
        "strategy": strategy,
        "raw_body": text,
        "content_type": content_type[:100],
        "parsed": {"alert": parsed.as_json(), "fields": _jsonable(parsed.fields)},
        "action": parsed.action.value,
        "symbol": (parsed.symbol or "")[:40],
        "is_test": is_test,
    }
    if parsed.alert_id is not None:
        # The key itself is unique: a concurrent twin waits for this insert, then fails on it.
        key = f"{strategy.pk}:id:{parsed.alert_id}"
        try:
            with transaction.atomic():
                signal = Signal.objects.create(idempotency_key=key, **fields)
        except IntegrityError:
            return Received(status="duplicate", signal=Signal.objects.get(idempotency_key=key))
    else:
        body_key = f"{strategy.pk}:body:{_body_key(strategy, raw)}"
        with transaction.atomic():
            # Check-then-insert is atomic under a transaction-scoped lock on this strategy and
            # body: an identical alert arriving at the same moment waits here until this one has
            # committed, then finds it (READ COMMITTED: its next statement sees the commit).
            _xact_lock(strategy, body_key)
            window = timezone.now() - timedelta(seconds=settings.SIGNAL_DEDUP_WINDOW_SECONDS)
            earlier = (
                Signal.objects.filter(
                    strategy=strategy,
                    idempotency_key__startswith=body_key,
                    received_at__gte=window,
                )
                .order_by("received_at")
                .first()
            )
            if earlier is not None:
                return Received(status="duplicate", signal=earlier)
            key = f"{body_key}:{timezone.now().timestamp():.6f}"
            signal = Signal.objects.create(idempotency_key=key, **fields)
    from trading.tasks import execute_signal

    transaction.on_commit(lambda: execute_signal.delay(signal.pk))
    return Received(status="accepted", signal=signal)


def signal_reject(
    *,
    strategy: Strategy,
    raw: bytes,
    content_type: str,
    reason: str,
    is_test: bool = False,
    keep_chars: int | None = None,
) -> Signal:
    """Store an alert refused at the door as rejected with ``reason`` (the signal log shows it);
    nothing is executed. The body is kept whole, or its first ``keep_chars`` characters (a
    flood's), always as text the database can keep (`stored_text`)."""
    text = stored_text(raw)
    if keep_chars is not None and len(text) > keep_chars:
        text = f"{text[:keep_chars]}… (first {keep_chars:,} of {len(text):,} characters)"
    return Signal.objects.create(
        strategy=strategy,
        idempotency_key=f"rejected:{uuid.uuid4().hex}",
        raw_body=text,
        content_type=content_type.replace("\x00", "")[:100],
        status=Signal.Status.REJECTED,
        rejection_reason=reason,
        is_test=is_test,
    )


def _xact_lock(strategy: Strategy, name: str) -> None:
    """A PostgreSQL advisory lock on ``name`` until the current transaction ends (through the
    ORM: D05, no hand-written SQL)."""
    digest = hashlib.sha256(name.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    Strategy.objects.filter(pk=strategy.pk).annotate(
        locked=Func(Value(key), function="pg_advisory_xact_lock", output_field=TextField())
    ).values_list("locked", flat=True).first()


def _jsonable(fields: dict[str, object]) -> dict[str, object]:
    from decimal import Decimal

    def convert(value: object) -> object:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in fields.items()}


def traders_disable_for_user(*, user: User, reason: str) -> int:
    """Billing's pause: switch every enabled trader of ``user`` off, saying why. Nothing is
    deleted; the user switches them back on."""
    return Trader.objects.filter(user=user, enabled=True).update(
        enabled=False, disabled_reason=reason[:200]
    )
