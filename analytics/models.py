"""Trades: round trips built from the mirror's fills (analytics/round_trips.py), flat to flat
per account and contract. Rebuilt from the fills whenever they change; never edited."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from accounts.models import Subaccount
from accounts.tenancy import TenantQuerySet
from trading.models import Fill, Signal


class Trade(models.Model):
    TENANT_PATH: ClassVar[str] = "subaccount__connection__user"

    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="trades")
    contract_id = models.BigIntegerField()
    symbol = models.CharField(max_length=40)
    direction = models.SmallIntegerField()  # +1 long, -1 short
    opened_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)  # None: still open
    max_qty = models.PositiveIntegerField()
    contracts = models.PositiveIntegerField()  # bought + sold in the trade (fees are per contract)
    entry_price = models.DecimalField(max_digits=18, decimal_places=8, null=True)
    exit_price = models.DecimalField(max_digits=18, decimal_places=8, null=True)
    points = models.DecimalField(max_digits=18, decimal_places=8)  # x contracts
    # In dollars; null while the contract's point value is unknown.
    gross_pnl = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    fees = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    net_pnl = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    # Maximum favourable / adverse excursion in dollars over the largest position held: how far
    # the price went for (>= 0) and against (<= 0) the trade from its average entry, from the
    # prices the streams process saw while it was open and the trade's own fills. Null while
    # the contract's point value is unknown.
    mfe = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    mae = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    # Whether prices were seen while the trade was open (else MFE/MAE come from its fills only).
    excursion_seen = models.BooleanField(default=False)
    fills = models.ManyToManyField(Fill, related_name="trades")
    signals = models.ManyToManyField(Signal, blank=True, related_name="trades")
    # The copy events whose follower orders filled in this trade (the leader's copy group).
    copy_events = models.ManyToManyField("copytrade.CopyEvent", blank=True, related_name="trades")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("opened_at", "id")
        indexes = [models.Index(fields=("subaccount", "contract_id", "opened_at"))]

    def __str__(self) -> str:
        side = "long" if self.direction > 0 else "short"
        return f"{side} {self.symbol} {self.opened_at:%Y-%m-%d %H:%M}"


class FeeRate(models.Model):
    """Commissions and fees per contract, per side, for one connection and contract root
    (e.g. $0.62 per MNQ contract bought or sold). None entered: trades show fees 0, said so."""

    TENANT_PATH: ClassVar[str] = "connection__user"

    connection = models.ForeignKey(
        "accounts.BrokerConnection", on_delete=models.CASCADE, related_name="fee_rates"
    )
    root = models.CharField(max_length=8)
    per_contract = models.DecimalField(max_digits=10, decimal_places=4)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("root",)
        constraints = [
            models.UniqueConstraint(fields=("connection", "root"), name="fee_rate_per_root")
        ]

    def __str__(self) -> str:
        return f"{self.root}: {self.per_contract} per contract"


class PriceExcursion(models.Model):
    """The highest and lowest price the streams process saw for an open position, kept per
    trade (account, contract and the trade's open time): MFE/MAE without storing ticks."""

    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="+")
    contract_id = models.BigIntegerField()
    opened_at = models.DateTimeField()
    high = models.DecimalField(max_digits=18, decimal_places=8)
    low = models.DecimalField(max_digits=18, decimal_places=8)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("subaccount", "contract_id", "opened_at"), name="excursion_per_trade"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} since {self.opened_at:%Y-%m-%d %H:%M}: {self.low}-{self.high}"
