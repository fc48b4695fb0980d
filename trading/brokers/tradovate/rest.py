"""Tradovate REST: every call has a timeout, penalty tickets are honoured, a 429 starts the
login's shared cooldown, and every failure becomes a typed ``BrokerError`` with Tradovate's
own words (D38, D43, D47). Orders always go over REST with ``isAutomated: true``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from trading.brokers.base import (
    BrokerAuthError,
    BrokerCaptchaRequired,
    BrokerError,
    BrokerNotFound,
    BrokerRateLimited,
    BrokerRejected,
    BrokerTimeout,
    BrokerUnavailable,
    TokenBundle,
)
from trading.brokers.cooldown import cooldown_get, cooldown_start

logger = logging.getLogger(__name__)

MAX_PENALTY_TICKETS = 3
GET_RETRIES = 2


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    app_id: str
    app_version: str
    cid: int | None
    sec: str
    device_id: str


def wire_price(value: Decimal | None) -> float | None:
    """A Decimal as the JSON number Tradovate expects, refusing any value a float would change."""
    if value is None:
        return None
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"price {value} cannot be sent exactly as a JSON number")
    return number


def _parse_time(value: object, *, what: str) -> datetime:
    if not isinstance(value, str) or value == "":
        raise BrokerError(f"Tradovate's answer has no valid {what}: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BrokerError(f"Tradovate's answer has an unreadable {what}: {value!r}") from None
    if parsed.tzinfo is None:
        raise BrokerError(f"Tradovate's {what} has no time zone: {value!r}")
    return parsed


def token_from_answer(answer: Any, *, endpoint: str, user_id: int | None = None) -> TokenBundle:
    """Validate an auth answer; anything but a complete token is an error (D26)."""
    if not isinstance(answer, dict):
        raise BrokerAuthError(
            f"Tradovate answered {endpoint} with {type(answer).__name__}, not a token"
        )
    error_text = answer.get("errorText")
    if isinstance(error_text, str) and error_text != "":
        raise BrokerAuthError(
            f"Tradovate refused the login ({endpoint})", broker_text=error_text, endpoint=endpoint
        )
    token = answer.get("accessToken")
    if not isinstance(token, str) or token == "":
        raise BrokerAuthError(
            f"Tradovate's answer to {endpoint} has no access token", endpoint=endpoint
        )
    answer_user = answer.get("userId")
    resolved_user = answer_user if isinstance(answer_user, int) else user_id
    if resolved_user is None:
        raise BrokerAuthError(f"Tradovate's answer to {endpoint} has no user id", endpoint=endpoint)
    md_token = answer.get("mdAccessToken")
    return TokenBundle(
        access_token=token,
        # The current schema may omit mdAccessToken: fall back to the access token.
        md_access_token=md_token if isinstance(md_token, str) and md_token != "" else token,
        expires_at=_parse_time(answer.get("expirationTime"), what="expirationTime"),
        user_id=resolved_user,
        name=str(answer.get("name") or ""),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~25 ms), which
    a client per signal and account must not pay (measured: it was a quarter of an entry)."""
    return httpx.create_ssl_context()


_SHARED: dict[tuple[int, float], httpx.Client] = {}
_SHARED_LOCK = threading.Lock()


def _shared_client(timeout: float) -> httpx.Client:
    """One HTTP client per process (and timeout) for every login and thread: its keep-alive
    connections are reused from one signal and account to the next, so an order does not wait
    for a new TCP and TLS handshake with Tradovate each time. Keyed by process id: a forked
    worker child never uses its parent's sockets. Tokens travel per request, not per client."""
    key = (os.getpid(), timeout)
    with _SHARED_LOCK:
        client = _SHARED.get(key)
        if client is None or client.is_closed:
            client = _SHARED[key] = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
                headers={"Accept": "application/json", "Content-Type": "application/json"},
                verify=_tls_context(),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            )
        return client


class TradovateREST:
    """One login's REST session. Thread-safe to share within a process (httpx.Client is)."""

    def __init__(
        self,
        *,
        rest_url: str,
        login: str,
        access_token: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.login = login
        self.access_token = access_token
        self._own_client = client is not None
        self._client = client or _shared_client(float(settings.TRADOVATE_TIMEOUT_SECONDS))

    def close(self) -> None:
        """Close a client passed in; the process's shared client stays open for the next."""
        if self._own_client:
            self._client.close()

    # --- auth ---------------------------------------------------------------------------------

    def request_token(self, credentials: Credentials) -> TokenBundle:
        body: dict[str, Any] = {
            "name": credentials.username,
            "password": credentials.password,
            "appId": credentials.app_id,
            "appVersion": credentials.app_version,
            "deviceId": credentials.device_id,
            "sec": credentials.sec,
        }
        if credentials.cid is not None:
            body["cid"] = credentials.cid
        answer = self.call("POST", "auth/accesstokenrequest", body=body, auth=False)
        return token_from_answer(answer, endpoint="auth/accesstokenrequest")

    def renew_token(self, *, user_id: int) -> TokenBundle:
        answer = self.call("GET", "auth/renewaccesstoken")
        return token_from_answer(answer, endpoint="auth/renewaccesstoken", user_id=user_id)

    # --- the one place requests are made ------------------------------------------------------

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        order_call: bool = False,
    ) -> Any:
        """Send one request and return its decoded JSON (floats as Decimal), or raise.

        Never sends while the login's shared cooldown is active. GETs are retried twice on
        5xx/timeouts; order calls never are (their outcome would be ambiguous).
        """
        attempts = 1 if method != "GET" else 1 + GET_RETRIES
        payload = dict(body) if body is not None else None
        tickets = 0
        attempt = 0
        while True:
            attempt += 1
            self._refuse_during_cooldown(endpoint)
            try:
                response = self._send(method, endpoint, payload=payload, params=params, auth=auth)
            except BrokerUnavailable as exc:
                if attempt < attempts and not exc.ambiguous:
                    time.sleep(0.2 * attempt + random.uniform(0, 0.2))
                    continue
                raise
            if response.status_code >= 500 and attempt < attempts:
                time.sleep(0.2 * attempt + random.uniform(0, 0.2))
                continue
            answer = self._decode(response, endpoint=endpoint, order_call=order_call)
            if isinstance(answer, dict) and "p-ticket" in answer:
                tickets += 1
                payload = self._after_penalty(
                    answer, endpoint=endpoint, payload=payload, tickets=tickets
                )
                continue
            return self._check_business_failure(answer, endpoint=endpoint, auth=auth)

    def _refuse_during_cooldown(self, endpoint: str) -> None:
        cooldown = cooldown_get(login=self.login)
        if cooldown is not None:
            raise BrokerRateLimited(
                f"Tradovate rate limit: this login is cooling down for another "
                f"{cooldown.remaining_seconds:.0f} s; nothing was sent ({cooldown.reason})",
                endpoint=endpoint,
                details={"retry_at": cooldown.until},
            )

    def _send(
        self,
        method: str,
        endpoint: str,
        *,
        payload: dict[str, Any] | None,
        params: dict[str, Any] | None,
        auth: bool,
    ) -> httpx.Response:
        headers = {}
        if auth:
            if self.access_token is None:
                raise BrokerAuthError("No Tradovate session: log in first", endpoint=endpoint)
            headers["Authorization"] = f"Bearer {self.access_token}"
        url = f"{self.rest_url}/{endpoint}"
        content = json.dumps(payload) if payload is not None else None
        try:
            return self._client.request(
                method, url, content=content, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise BrokerTimeout(
                f"Tradovate did not answer {endpoint} within "
                f"{settings.TRADOVATE_TIMEOUT_SECONDS} s ({type(exc).__name__})",
                endpoint=endpoint,
                # A request that was sent may have been executed: only a connect timeout is safe.
                ambiguous=method != "GET" and not isinstance(exc, httpx.ConnectTimeout),
            ) from None
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(
                f"Tradovate could not be reached for {endpoint}: {type(exc).__name__}: {exc}",
                endpoint=endpoint,
                ambiguous=method != "GET" and not isinstance(exc, httpx.ConnectError),
            ) from None

    def _decode(self, response: httpx.Response, *, endpoint: str, order_call: bool) -> Any:
        status = response.status_code
        text = response.text.strip()
        if status == 429:
            seconds = _retry_after(response) or settings.TRADOVATE_429_COOLDOWN_SECONDS
            cooldown = cooldown_start(
                login=self.login, seconds=seconds, reason=f"HTTP 429 on {endpoint}"
            )
            logger.warning("tradovate 429 on %s: login cooling down %.0f s", endpoint, seconds)
            raise BrokerRateLimited(
                f"Tradovate rate limit (HTTP 429) on {endpoint}: every use of this login pauses "
                f"for {seconds:.0f} s",
                broker_text=text,
                endpoint=endpoint,
                status_code=429,
                details={"retry_at": cooldown.until},
            )
        try:
            answer = json.loads(text, parse_float=Decimal) if text else None
        except json.JSONDecodeError:
            answer = None
        broker_text = _error_text(answer) or text[:500]
        if status == 401:
            raise BrokerAuthError(
                f"Tradovate refused the session for {endpoint} (HTTP 401): reconnect the login",
                broker_text=broker_text,
                endpoint=endpoint,
                status_code=401,
            )
        if status == 404:
            raise BrokerNotFound(
                f"Tradovate: not found ({endpoint})",
                broker_text=broker_text,
                endpoint=endpoint,
                status_code=404,
            )
        if status >= 500:
            raise BrokerUnavailable(
                f"Tradovate failed on {endpoint} (HTTP {status})",
                broker_text=broker_text,
                endpoint=endpoint,
                status_code=status,
                ambiguous=order_call,
            )
        if status >= 400:
            raise BrokerError(
                f"Tradovate refused {endpoint} (HTTP {status})",
                broker_text=broker_text,
                endpoint=endpoint,
                status_code=status,
            )
        if answer is None and text != "":
            raise BrokerError(
                f"Tradovate's answer to {endpoint} is not JSON",
                broker_text=text[:500],
                endpoint=endpoint,
                status_code=status,
                ambiguous=order_call,
            )
        return answer

    def _after_penalty(
        self, answer: dict[str, Any], *, endpoint: str, payload: dict[str, Any] | None, tickets: int
    ) -> dict[str, Any]:
        wait = float(answer.get("p-time") or 0)
        if answer.get("p-captcha") is True:
            cooldown = cooldown_start(
                login=self.login,
                seconds=settings.TRADOVATE_CAPTCHA_COOLDOWN_SECONDS,
                reason=f"penalty ticket with captcha on {endpoint}",
            )
            raise BrokerCaptchaRequired(
                "Tradovate requires a captcha for this login: automated access stops for "
                f"{settings.TRADOVATE_CAPTCHA_COOLDOWN_SECONDS / 60:.0f} minutes. Log in once on "
                "Tradovate's site, then test the connection again.",
                endpoint=endpoint,
                details={"retry_at": cooldown.until},
            )
        if tickets > MAX_PENALTY_TICKETS or wait > settings.TRADOVATE_MAX_PENALTY_WAIT_SECONDS:
            cooldown = cooldown_start(
                login=self.login, seconds=max(wait, 60.0), reason=f"penalty ticket on {endpoint}"
            )
            raise BrokerRateLimited(
                f"Tradovate penalty on {endpoint}: asked to wait {wait:.0f} s "
                f"(ticket {tickets}); this login pauses",
                endpoint=endpoint,
                details={"retry_at": cooldown.until},
            )
        logger.info(
            "tradovate penalty ticket on %s: waiting %.1f s, then resending", endpoint, wait
        )
        time.sleep(wait)
        return {**(payload or {}), "p-ticket": answer["p-ticket"]}

    @staticmethod
    def _check_business_failure(answer: Any, *, endpoint: str, auth: bool) -> Any:
        if not isinstance(answer, dict):
            return answer
        reason = answer.get("failureReason")
        if isinstance(reason, str) and reason not in ("", "Success"):
            text = str(answer.get("failureText") or reason)
            raise BrokerRejected(
                f"Tradovate rejected {endpoint}: {reason}",
                broker_text=text,
                endpoint=endpoint,
                details={"failureReason": reason},
            )
        error_text = answer.get("errorText")
        if isinstance(error_text, str) and error_text != "":
            kind = BrokerAuthError if not auth else BrokerRejected
            raise kind(f"Tradovate refused {endpoint}", broker_text=error_text, endpoint=endpoint)
        return answer


def _error_text(answer: Any) -> str:
    if isinstance(answer, dict):
        for key in ("errorText", "failureText", "message"):
            value = answer.get(key)
            if isinstance(value, str) and value != "":
                return value
    if isinstance(answer, str):
        return answer
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(1.0, float(value))
    except ValueError:
        return None
