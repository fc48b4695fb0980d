"""The broker protocol and its typed results and errors.

Trading code talks to this and nothing else (DESIGN.md §6). Results are dataclasses, never
dicts; prices are ``Decimal``; every failure is a ``BrokerError`` subclass that carries the
broker's own words (D38) and says whether an order call's outcome is unknown (ambiguous).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class Side(enum.StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"
    STOP = "Stop"
    STOP_LIMIT = "StopLimit"


WORKING_STATUSES = frozenset(
    {"Working", "Suspended", "PendingNew", "PendingReplace", "PendingCancel"}
)
# An order in one of these has filled; any other status outside WORKING_STATUSES ended unfilled.
FILLED_STATUSES = frozenset({"Filled", "Completed"})


@dataclass(frozen=True)
class BrokerAccount:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class DayPnL:
    """One account's profit and loss of the trading day, as the broker reports it."""

    account_id: int
    realized: Decimal
    open: Decimal | None

    @property
    def realized_loss(self) -> Decimal:
        """Today's realized loss as a positive number (0 when the day is in profit)."""
        return max(Decimal(0), -self.realized)


@dataclass(frozen=True)
class BrokerPosition:
    account_id: int
    contract_id: int
    symbol: str
    net_pos: int
    net_price: Decimal | None


@dataclass(frozen=True)
class WorkingOrder:
    order_id: int
    account_id: int
    contract_id: int
    symbol: str
    side: Side
    status: str
    order_type: str | None
    qty: int | None
    price: Decimal | None
    stop_price: Decimal | None
    oco_id: int | None = None
    parent_id: int | None = None
    cl_ord_id: str | None = None


@dataclass(frozen=True)
class OrderRequest:
    account_id: int
    account_name: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    cl_ord_id: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "Day"


@dataclass(frozen=True)
class BracketLeg:
    """One exit attached to an entry (take-profit limit or protective stop)."""

    order_type: OrderType
    price: Decimal | None = None
    stop_price: Decimal | None = None
    qty: int | None = None  # None = the entry's quantity


@dataclass(frozen=True)
class BracketRequest:
    entry: OrderRequest
    take_profit: BracketLeg | None
    stop: BracketLeg | None


@dataclass(frozen=True)
class PlacedOrder:
    order_id: int
    cl_ord_id: str


@dataclass(frozen=True)
class KnownOrder:
    """An order the broker has, found by its clOrdId: its id and ``ordStatus`` in the broker's
    words (Working, Filled, Canceled, Rejected, ...)."""

    order_id: int
    status: str


@dataclass(frozen=True)
class PlacedOco:
    """Two orders linked one-cancels-other: the first (``order_id``) and the other."""

    order_id: int
    other_order_id: int


@dataclass(frozen=True)
class PlacedBracket:
    entry_order_id: int
    take_profit_order_id: int | None
    stop_order_id: int | None
    cl_ord_id: str


@dataclass(frozen=True)
class TokenBundle:
    access_token: str
    md_access_token: str
    expires_at: datetime
    user_id: int
    name: str = ""


@dataclass(frozen=True)
class ContractInfo:
    id: int
    name: str


# --- errors -----------------------------------------------------------------------------------


@dataclass
class BrokerError(Exception):
    """A broker call failed. ``broker_text`` is the broker's own words, shown to the user."""

    message: str
    broker_text: str = ""
    endpoint: str = ""
    status_code: int | None = None
    # True when an order call may have been executed anyway (timeout, 5xx after sending):
    # the caller must reconcile by clOrdId before trying again.
    ambiguous: bool = False
    details: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.broker_text and self.broker_text not in self.message:
            return f"{self.message} (broker said: {self.broker_text})"
        return self.message


class BrokerAuthError(BrokerError):
    """Credentials refused or session invalid: the user must fix the connection."""


class BrokerRejected(BrokerError):
    """A business failure (``failureReason``): the broker refused this order as asked."""

    @property
    def failure_reason(self) -> str:
        return str(self.details.get("failureReason", ""))


class BrokerRateLimited(BrokerError):
    """429 or an active shared cooldown: nothing was sent; retry after ``retry_at``."""


class BrokerCaptchaRequired(BrokerRateLimited):
    """A penalty ticket with captcha: automated access is stopped for about an hour."""


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or answered 5xx."""


class BrokerTimeout(BrokerUnavailable):
    """No answer in time."""


class BrokerNotFound(BrokerError):
    """The broker says the object does not exist (404)."""


class Broker(Protocol):
    """What the trading engine may ask of a broker login."""

    def accounts(self) -> list[BrokerAccount]: ...

    def positions(self, *, account_id: int | None = None) -> list[BrokerPosition]: ...

    def working_orders(self, *, account_id: int | None = None) -> list[WorkingOrder]: ...

    def day_pnl(self, *, account_id: int) -> DayPnL: ...

    def place_order(self, request: OrderRequest) -> PlacedOrder: ...

    def place_bracket(self, request: BracketRequest) -> PlacedBracket: ...

    def place_oco(self, first: OrderRequest, other: OrderRequest) -> PlacedOco: ...

    def order_id_for(self, *, account_id: int, cl_ord_id: str) -> int | None: ...

    def order_lookup(self, *, account_id: int, cl_ord_id: str) -> KnownOrder | None: ...

    def order_statuses(self, *, account_id: int) -> dict[int, str]: ...

    def initial_stop_price(self, *, order_id: int) -> Decimal | None: ...

    def cancel_order(self, *, order_id: int) -> None: ...

    def modify_order(
        self,
        *,
        order_id: int,
        qty: int,
        order_type: OrderType,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None: ...

    def flatten(self, *, account_id: int, contract_id: int) -> int | None: ...

    def contract(self, *, name: str) -> ContractInfo: ...

    def contract_names(self, *, contract_ids: set[int]) -> dict[int, str]:
        """Contract id -> its name (``MESZ6``); raises when the broker does not know one."""
        ...

    def close(self) -> None:
        """Release this broker object's client; call once when done with it."""
