"""What an alert must satisfy, beyond its shape, before it is accepted: a symbol that trades.

`parse_alert` checks the body; `alert_symbol_check` checks the symbol against what exists
(`trading.contracts.parse_symbol`) and against the strategy's allow-list, so an unknown root
(``XYZQ1!``, ``FOOZ2026``) or an ES alert on a strategy that trades NQ is rejected at the door
with the reason, never answered "accepted" and failed on every account later.

The alert's symbol is judged only where it is what trades: a strategy's ``symbol_override``
replaces it for every trader, and when every enabled trader of the strategy has its own
override the alert's ticker trades nowhere (a vendor alerting on a cash-index chart, each
subscriber mapping it to a future). Those overrides are checked by the forms that set them.
"""

from __future__ import annotations

from django.db.models import Count, Q

from trading.alerts import AlertError, ParsedAlert
from trading.contracts import InvalidSymbolError, UnknownContractError, parse_symbol
from trading.models import Strategy, Trader

_FIELDS = ("symbol_override", "symbol_allow_list")


def symbol_problem(*, symbol: str, allowed_roots: list[str]) -> str | None:
    """Why ``symbol`` cannot trade on a strategy allowing ``allowed_roots`` (empty: any known
    root), in words; None when it can. Pure."""
    try:
        contract = parse_symbol(symbol)
    except UnknownContractError as exc:
        return f"The alert's symbol {symbol!r} is not a contract Bracketeer trades: {exc}."
    except InvalidSymbolError as exc:
        return f"The alert's symbol {symbol!r} cannot be read: {exc}."
    if allowed_roots and contract.root not in allowed_roots:
        return (
            f"The alert's symbol {symbol!r} is {contract.root}, which this strategy does not "
            f"trade: its symbol allow-list is {', '.join(allowed_roots)}. Nothing was traded."
        )
    return None


def _alert_symbol_trades(strategy: Strategy) -> bool:
    """False only when every enabled trader of the strategy (at least one) sets its own symbol."""
    overriding = Q(symbol_override__isnull=False) & ~Q(symbol_override="")
    counts = Trader.objects.filter(strategy=strategy, enabled=True).aggregate(
        overriding=Count("pk", filter=overriding), plain=Count("pk", filter=~overriding)
    )
    return counts["plain"] > 0 or counts["overriding"] == 0


def alert_symbol_check(*, strategy: Strategy, alert: ParsedAlert) -> None:
    """Raise `AlertError` saying why when the alert's symbol is what would trade and it is
    unknown, unreadable or not on the strategy's symbol allow-list.

    Guarantees: no broker I/O; an alert without a symbol, or one on a strategy with a
    ``symbol_override``, is never rejected here; the database is read only to load the two
    strategy fields when deferred and, for a symbol that fails, to count the traders.
    """
    deferred = strategy.get_deferred_fields() & set(_FIELDS)
    if deferred:
        strategy.refresh_from_db(fields=sorted(deferred))
    if strategy.symbol_override or alert.symbol is None:
        return
    problem = symbol_problem(symbol=alert.symbol, allowed_roots=list(strategy.symbol_allow_list))
    if problem is not None and _alert_symbol_trades(strategy):
        raise AlertError(problem)
