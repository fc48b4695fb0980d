"""Hostile and broken bodies at both webhook doors (the ASGI door production uses and the
Django view): each is a 400 stored as rejected with its reason, never a 503 "database down",
and nothing already stored is lost. A flood to one URL is cut at the limit: 429 with
Retry-After, stored as rejected ("rate limited"), other strategies unaffected."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import StrategyFactory
from tests.signals.helpers import asgi_request
from trading.models import Signal, Strategy
from trading.webhooks import webhook_accept

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = {
    "NaN": (b'{"action": "buy", "ticker": "MNQ1!", "price": NaN}', "NaN, which is not a number"),
    "Infinity": (b'{"action": "buy", "price": -Infinity}', "-Infinity, which is not a number"),
    "raw NUL": (b'{"action": "buy\x00", "ticker": "MNQ1!"}', "NUL character"),
    "escaped NUL": (b'{"action": "buy", "comment": "a\\u0000b"}', "NUL character"),
    "lone surrogate": (b'{"action": "buy", "comment": "\\ud800"}', "surrogate"),
    "5,000 digits": (b'{"action": "buy", "quantity": ' + b"9" * 5000 + b"}", "number"),
    "nested 5,000 deep": (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    "nested 25 deep": (b'{"action": "buy", "a": ' + b"[" * 25 + b"]" * 25 + b"}", "nested"),
}


@pytest.fixture
def hooked(user: Any) -> Strategy:
    return StrategyFactory.create(user=user)


def _path(strategy: Strategy) -> str:
    return f"/webhooks/tradingview/{strategy.webhook_token}/"


@pytest.mark.parametrize("door", ["asgi", "django"])
def test_each_hostile_body_is_a_400_stored_as_rejected_with_its_reason(
    hooked: Strategy, door: str
) -> None:
    kept = asgi_request("POST", _path(hooked), b'{"action": "buy", "ticker": "MNQ1!", "id": "k"}')
    assert kept.status_code == 200
    for name, (body, words) in HOSTILE.items():
        if door == "asgi":
            response = asgi_request("POST", _path(hooked), body)
            status, answer = response.status_code, response.json()
        else:
            reply = Client().post(_path(hooked), body, content_type="application/json")
            status, answer = reply.status_code, reply.json()
        assert status == 400, (name, answer)
        assert words in answer["reason"], (name, answer["reason"])
        signal = Signal.objects.get(pk=answer["signal_id"])
        assert signal.status == Signal.Status.REJECTED and words in signal.rejection_reason
        assert "\x00" not in signal.raw_body
    assert Signal.objects.filter(status=Signal.Status.RECEIVED).count() == 1  # the good one
    nul = Signal.objects.get(raw_body__contains="buy\u2400")  # the raw NUL, shown as ␀
    assert nul.status == Signal.Status.REJECTED


def test_a_flood_to_one_url_is_cut_at_the_limit_with_retry_after(
    hooked: Strategy,
    user: Any,
    settings: Any,
) -> None:
    settings.WEBHOOK_ALERTS_PER_MINUTE = 5
    other = StrategyFactory.create(user=user)
    answers = [
        asgi_request("POST", _path(hooked), f'{{"action": "buy", "id": "f{n}"}}'.encode())
        for n in range(8)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Rate limited" in refused.json()["reason"]
    limited = Signal.objects.filter(strategy=hooked, status=Signal.Status.REJECTED)
    assert limited.count() == 3 and "more than 5 alerts" in limited.first().rejection_reason  # type: ignore[union-attr]
    view = Client().post(
        _path(hooked), b'{"action": "buy", "id": "v"}', content_type="application/json"
    )
    assert view.status_code == 429 and view["Retry-After"]
    assert asgi_request("POST", _path(other), b'{"action": "buy"}').status_code == 200
    owner = Client()
    owner.force_login(user)
    page = owner.get(f"/trading/strategies/{hooked.pk}/").content.decode()
    assert "At most 5 alerts a minute" in page


_pieces = st.sampled_from(
    [
        b'{"action": "buy"',
        b', "ticker": "MNQ1!"',
        b', "price": NaN',
        b', "price": 1e999999',
        b', "q": -Infinity',
        b', "x": "\\u0000"',
        b', "x": "\\udfff\\ud800"',
        b', "x": "\x00"',
        b', "n": ' + b"7" * 4400,
        b', "deep": ' + b"[" * 40 + b"]" * 40,
        b', "id": "\xff\xfe"',
        b', "quantity": 1.5',
        b', "action": 12',
        b"}",
        b"]",
        b"\\",
    ]
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_pieces, min_size=1, max_size=6), junk=st.binary(max_size=12))
def test_fuzzed_bodies_are_never_a_server_error(
    hooked: Strategy, parts: list[bytes], junk: bytes
) -> None:
    """Whatever arrives, the answer is 200 (stored), 400 (stored as rejected with a reason) or
    a duplicate; never a 5xx, and the body is always stored NUL-free."""
    status, answer = webhook_accept(
        token=hooked.webhook_token, raw=b"".join(parts) + junk, content_type="application/json"
    )
    assert status in (200, 400), answer
    signal = Signal.objects.get(pk=answer["signal_id"])
    assert "\x00" not in signal.raw_body
    assert (status == 400) == (signal.status == Signal.Status.REJECTED)
