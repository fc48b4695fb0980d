"""The broker's account state as the user stream reports it: fills, positions, cash.

Written only by `trading.mirror` (the stream and reconciliation); read through
`trading.selectors`. Broker ids are the keys, so an event applied twice changes nothing.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from accounts.models import Subaccount
from accounts.tenancy import TenantQuerySet


class Fill(models.Model):
    """One execution at the broker (Tradovate ``fill``), ours or placed by hand."""

    TENANT_PATH: ClassVar[str] = "subaccount__connection__user"

    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="fills")
    order = models.ForeignKey(
        "trading.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="fills"
    )
    broker_fill_id = models.BigIntegerField()
    broker_order_id = models.BigIntegerField(db_index=True)
    contract_id = models.BigIntegerField()
    symbol = models.CharField(max_length=40)
    side = models.CharField(max_length=4)
    qty = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=18, decimal_places=8)
    filled_at = models.DateTimeField(db_index=True)
    trade_date = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("filled_at", "broker_fill_id")
        constraints = [
            # Tradovate's ids are unique per environment; one login sees one environment.
            models.UniqueConstraint(
                fields=("subaccount", "broker_fill_id"), name="fill_unique_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.qty} {self.symbol} @ {self.price}"


class Position(models.Model):
    """One subaccount's net position in one contract, as the broker last reported it."""

    TENANT_PATH: ClassVar[str] = "subaccount__connection__user"

    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="positions")
    contract_id = models.BigIntegerField()
    symbol = models.CharField(max_length=40)
    net_pos = models.IntegerField(default=0)
    net_price = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    bought = models.PositiveIntegerField(default=0)
    sold = models.PositiveIntegerField(default=0)
    # Realized P&L of the trading day in currency (bought/sold values against the contract's
    # point value), null while the contract's point value is unknown.
    realized_pnl = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    trade_date = models.DateField(null=True, blank=True)
    broker_timestamp = models.DateTimeField(null=True, blank=True)
    # What reconciliation found wrong with it, said to the trader (e.g. our stop is gone).
    problem = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("subaccount_id", "symbol")
        constraints = [
            models.UniqueConstraint(
                fields=("subaccount", "contract_id"), name="position_unique_per_contract"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id} {self.symbol} {self.net_pos:+d}"


class CashBalance(models.Model):
    """A subaccount's cash and today's realized P&L, as the broker last reported them."""

    TENANT_PATH: ClassVar[str] = "subaccount__connection__user"

    subaccount = models.OneToOneField(
        Subaccount, on_delete=models.CASCADE, related_name="cash_balance"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    realized_pnl = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    trade_date = models.DateField(null=True, blank=True)
    broker_timestamp = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.subaccount_id}: {self.amount}"
