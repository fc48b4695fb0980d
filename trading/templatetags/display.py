"""How pages show times and prices: ``{% load display %}``.

- ``{{ dt|when }}``: a moment in the viewer's time zone (activated per request by
  ``accounts.middleware.UserTimeZoneMiddleware``), to the second, with the zone named:
  ``2026-12-01 19:51:04 EST``, in a ``<time>`` element carrying the exact instant.
- ``{{ dt|clock }}``: the time of day only, with milliseconds (timings of one signal).
- ``{{ price|at_tick:symbol }}``: a price with the decimals of the contract's tick
  (``18005.25`` for MNQ, not ``18005.25000000``).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from trading.contracts import (
    CONTRACT_SPECS,
    InvalidSymbolError,
    UnknownContractError,
    contract_spec,
    parse_symbol,
)

register = template.Library()

EMPTY = "—"


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def zone_words(value: datetime) -> str:
    """The zone's abbreviation (EST, CET), or its name where it has none (``+03``)."""
    abbreviation = value.strftime("%Z")
    if abbreviation == "" or abbreviation[0] in "+-":
        return timezone.get_current_timezone_name()
    return abbreviation


@register.filter
def when(value: datetime | None) -> SafeString | str:
    if value is None or value == "":
        return EMPTY
    local = _local(value)
    return format_html(
        '<time datetime="{}" title="{}">{} {}</time>',
        local.isoformat(),
        timezone.get_current_timezone_name(),
        local.strftime("%Y-%m-%d %H:%M:%S"),
        zone_words(local),
    )


@register.filter
def clock(value: datetime | None) -> str:
    if value is None or value == "":
        return EMPTY
    local = _local(value)
    return f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"


def _tick_size(symbol: str) -> Decimal | None:
    try:
        return parse_symbol(symbol).spec.tick_size
    except (UnknownContractError, InvalidSymbolError, ValueError):
        pass
    text = symbol.strip().upper()
    for end in range(len(text), 0, -1):  # an expired contract's name: its longest known root
        if text[:end] in CONTRACT_SPECS:
            return contract_spec(text[:end]).tick_size
    return None


@register.filter
def at_tick(value: Any, symbol: str = "") -> str:
    if value is None or value == "":
        return EMPTY
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    tick = _tick_size(str(symbol)) if symbol else None
    if tick is not None:
        exponent = tick.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return f"{price.quantize(Decimal(1).scaleb(-places)):f}"
    return f"{price.normalize():f}" if price != price.to_integral() else f"{price:.0f}"


# What failed, in words, for an outcome's stored exception type (the type itself is for
# support, in the admin; subscribers read this and the message).
FAILURE_WORDS: dict[str, str] = {
    "InvalidSymbolError": "The symbol could not be read",
    "UnknownContractError": "The symbol names a contract Bracketeer does not trade",
    "AlertError": "The alert could not be read",
    "BrokerAuthError": "The broker refused the login",
    "ConnectionNotReady": "The broker connection is not ready",
    "BrokerRejected": "The broker rejected the order",
    "BrokerRateLimited": "The broker asked us to slow down",
    "BrokerTimeout": "The broker did not answer in time",
    "BrokerUnavailable": "The broker could not be reached",
    "BrokerNotFound": "The broker does not know this account or order",
    "BrokerError": "The broker call failed",
    "DecryptionError": "The saved login could not be decrypted",
    "SafetyBlock": "Safety block: the position could not be verified",
    "PlanLimitError": "Your plan does not allow this",
}
FAILURE_DEFAULT = "It could not be completed"


@register.filter
def failure_words(error_type: str) -> str:
    """What failed, in words, for a stored exception class name (never the name itself)."""
    return FAILURE_WORDS.get(error_type, FAILURE_DEFAULT)


_ONE_UNIT = re.compile(r"(?<![\d.])1 (contract|tick|point|order|second|signal)s\b")
_ONE_ENTRY = re.compile(r"(?<![\d.])1 entries\b")


@register.filter
def singular_units(text: str) -> str:
    """``1 contracts`` -> ``1 contract`` (and ticks, points, orders) in words built elsewhere."""
    return _ONE_ENTRY.sub("1 entry", _ONE_UNIT.sub(r"1 \1", str(text)))


def _setting_label(name: str) -> str:
    from trading.setting_words import LABELS

    extra = {"max_contracts": "Max contracts", "alert_quantity_max": "Most an alert may ask"}
    label = LABELS.get(name) or extra[name]
    return re.sub(r" \([^)]*\)$", "", label).lower()  # "Entry size (contracts)" -> "entry size"


def _setting_value(name: str, value: str) -> str:
    from trading.setting_words import CHOICES

    if name in CHOICES:
        return ": " + str(dict(CHOICES[name]).get(value, value)).lower()
    return f" {value}"


_SETTING_IS = re.compile(r"\b([a-z]+(?:_[a-z]+)+)=([^\s,;)]+)")


@register.filter
def setting_labels(text: str) -> str:
    """``entry_size=1 x multiplier`` -> ``entry size 1 x multiplier``: reasons the engine writes
    with setting names read with the form's labels (names it does not know stay as they are)."""

    def label(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        try:
            return f"{_setting_label(name)}{_setting_value(name, value)}"
        except KeyError:
            return match.group(0)

    return _SETTING_IS.sub(label, str(text))


@register.filter
def would(step: str) -> str:
    """A preview step in the conditional: ``buy 1 MNQZ6 at market`` -> ``would buy ...``."""
    text = singular_units(step).replace("working order(s)", "working orders")
    text = re.sub(r"\b1 working orders\b", "1 working order", text)
    text = text[:1].lower() + text[1:]  # "Buy 1 MNQZ6" -> "buy 1 MNQZ6"
    if text.startswith("exits from"):
        return f"would then place exits from{text.removeprefix('exits from')}"
    return f"would {text}"
