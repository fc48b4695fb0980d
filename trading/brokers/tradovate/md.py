"""Tradovate's market-data WebSocket: live quotes for a set of contracts that may change.

The market-data host (``wss://md.tradovateapi.com/v1/websocket``; the simulator serves it at
``/md/v1/websocket``) speaks the user stream's frame protocol, so `QuoteStream` is a
`FramedSocket`: the same connect gate, shared cooldown, heartbeats, dead detection and
reconnects with backoff. It authorizes with the login's market-data token, subscribes each
wanted symbol with ``md/subscribeQuote`` (again after every reconnect), unsubscribes symbols
that are no longer wanted, and hands every quote to ``on_quote``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from websockets.asyncio.client import ClientConnection

from accounts.crypto import decrypt_str
from accounts.models import BrokerConnection
from trading.brokers.services import broker_token_ensure
from trading.brokers.tradovate.ws import FramedSocket, RequestFailed

logger = logging.getLogger(__name__)

TRADOVATE_MD_URL = "wss://md.tradovateapi.com/v1/websocket"
SUBSCRIBE = "md/subscribeQuote"
UNSUBSCRIBE = "md/unsubscribeQuote"
# Answers that refuse one symbol (unknown, malformed) without saying anything about the socket.
SYMBOL_REFUSALS = (400, 404)


@dataclass(frozen=True)
class Quote:
    """One quote update. Prices are Decimal; an entry the server did not send is None."""

    symbol: str
    contract_id: int
    last: Decimal | None  # the last trade
    bid: Decimal | None
    ask: Decimal | None
    timestamp: str


def md_url(*, connection: BrokerConnection) -> str:
    """The market-data WebSocket of ``connection``: the simulator's, or Tradovate's one md host
    (demo and live logins share it)."""
    if connection.broker == BrokerConnection.Broker.SIMULATOR:
        base = settings.SIMULATOR_URL
        return "ws" + base.removeprefix("http") + "/md/v1/websocket"
    return TRADOVATE_MD_URL


def md_token_ensure(*, connection: BrokerConnection) -> str:
    """A usable market-data token for ``connection`` (Tradovate's ``mdAccessToken``, else the
    access token), logging in only when the stored session is unusable."""
    access_token = broker_token_ensure(connection=connection)
    if connection.md_access_token_encrypted != "":
        return decrypt_str(connection.md_access_token_encrypted)
    return access_token


def _price(entries: Any, name: str) -> Decimal | None:
    entry = entries.get(name) if isinstance(entries, dict) else None
    value = entry.get("price") if isinstance(entry, dict) else None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


class QuoteStream(FramedSocket):
    """Quotes of the symbols last given to `want`, for as long as ``run(stop)`` runs."""

    def __init__(
        self, *, on_quote: Callable[[Quote], Awaitable[None]], name: str, **options: Any
    ) -> None:
        super().__init__(**options)
        self.on_quote = on_quote
        self.name = name
        self.subscribed: dict[str, int] = {}  # symbol -> contract id, on the current socket
        self.refused: dict[str, str] = {}  # symbol -> the server's words, until it is wanted anew
        self._wanted: dict[str, int] = {}
        self._by_contract: dict[int, str] = {}
        self._changed = asyncio.Event()

    def want(self, symbols: Mapping[str, int]) -> None:
        """Quotes for exactly these symbols (symbol -> Tradovate contract id) from now on."""
        wanted = dict(symbols)
        if wanted != self._wanted:
            for symbol in set(self.refused) - set(wanted):
                del self.refused[symbol]
            self._wanted = wanted
            self._changed.set()

    async def _on_open(self, websocket: ClientConnection) -> list[asyncio.Task[None]]:
        self.subscribed = {}
        self.refused = {}
        self._by_contract = {}
        await self._reconcile(websocket)
        return [asyncio.create_task(self._follow(websocket))]

    async def _follow(self, websocket: ClientConnection) -> None:
        while True:
            await self._changed.wait()
            await self._reconcile(websocket)

    async def _reconcile(self, websocket: ClientConnection) -> None:
        self._changed.clear()  # a change made while this runs sets it again
        wanted = dict(self._wanted)
        for symbol in [s for s in self.subscribed if s not in wanted]:
            contract_id = self.subscribed.pop(symbol)
            self._by_contract.pop(contract_id, None)
            await self._request(
                websocket, UNSUBSCRIBE, body={"symbol": symbol}, timeout=self.open_timeout
            )
        for symbol, contract_id in wanted.items():
            if symbol in self.subscribed or symbol in self.refused:
                continue
            # Mapped before asking: the first quote arrives right behind the answer.
            self._by_contract[contract_id] = symbol
            try:
                await self._request(
                    websocket, SUBSCRIBE, body={"symbol": symbol}, timeout=self.open_timeout
                )
            except RequestFailed as exc:
                if exc.status not in SYMBOL_REFUSALS:
                    raise
                self._by_contract.pop(contract_id, None)
                self.refused[symbol] = exc.text
                logger.warning("tradovate %s: %s refused: %s", self.name, symbol, exc.text)
                continue
            self.subscribed[symbol] = contract_id

    async def _on_event(self, event: str, data: Any) -> None:
        if event != "md" or not isinstance(data, dict):
            return
        for item in data.get("quotes") or ():
            contract_id = item.get("contractId") if isinstance(item, dict) else None
            if not isinstance(contract_id, int) or contract_id not in self._by_contract:
                continue
            assert isinstance(item, dict)
            entries = item.get("entries")
            self.stats.events += 1
            await self.on_quote(
                Quote(
                    symbol=self._by_contract[contract_id],
                    contract_id=contract_id,
                    last=_price(entries, "Trade"),
                    bid=_price(entries, "Bid"),
                    ask=_price(entries, "Offer"),
                    timestamp=str(item.get("timestamp", "")),
                )
            )
