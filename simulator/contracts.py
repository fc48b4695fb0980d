"""The simulator's own contract table (CME group roots, see shared/PROTOCOLS.md).

Kept apart from the application's table on purpose: a wrong tick on our side is caught by the
simulator rejecting the price, as Tradovate would.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class RootSpec:
    root: str
    exchange: str
    tick: Decimal
    value_per_point: Decimal
    default_price: Decimal


def _spec(root: str, exchange: str, tick: str, vpp: str, price: str) -> RootSpec:
    return RootSpec(root, exchange, Decimal(tick), Decimal(vpp), Decimal(price))


ROOTS: dict[str, RootSpec] = {
    s.root: s
    for s in (
        _spec("ES", "CME", "0.25", "50", "5000.00"),
        _spec("MES", "CME", "0.25", "5", "5000.00"),
        _spec("NQ", "CME", "0.25", "20", "18000.00"),
        _spec("MNQ", "CME", "0.25", "2", "18000.00"),
        _spec("YM", "CBOT", "1", "5", "40000"),
        _spec("MYM", "CBOT", "1", "0.5", "40000"),
        _spec("RTY", "CME", "0.1", "50", "2000.0"),
        _spec("M2K", "CME", "0.1", "5", "2000.0"),
        _spec("CL", "NYMEX", "0.01", "1000", "75.00"),
        _spec("MCL", "NYMEX", "0.01", "100", "75.00"),
        _spec("GC", "COMEX", "0.1", "100", "2000.0"),
        _spec("MGC", "COMEX", "0.1", "10", "2000.0"),
        _spec("SI", "COMEX", "0.005", "5000", "25.000"),
        _spec("SIL", "COMEX", "0.005", "1000", "25.000"),
        _spec("HG", "COMEX", "0.0005", "25000", "4.0000"),
        _spec("NG", "NYMEX", "0.001", "10000", "3.000"),
        _spec("ZB", "CBOT", "0.03125", "1000", "120"),
        _spec("ZN", "CBOT", "0.015625", "1000", "110"),
        _spec("ZF", "CBOT", "0.0078125", "1000", "106"),
        _spec("6E", "CME", "0.00005", "125000", "1.08000"),
        _spec("6J", "CME", "0.0000005", "12500000", "0.0067000"),
    )
}


@dataclass(frozen=True)
class Product:
    id: int
    spec: RootSpec

    @property
    def name(self) -> str:
        return self.spec.root

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.spec.root,
            "tickSize": float(self.spec.tick),
            "valuePerPoint": float(self.spec.value_per_point),
            "currencyId": 1,
            "productType": "Futures",
        }


@dataclass(frozen=True)
class Contract:
    id: int
    name: str
    product: Product
    contract_maturity_id: int

    @property
    def tick(self) -> Decimal:
        return self.product.spec.tick

    @property
    def value_per_point(self) -> Decimal:
        return self.product.spec.value_per_point

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "contractMaturityId": self.contract_maturity_id,
            "productId": self.product.id,
        }


def split_name(name: str) -> tuple[str, str, int] | None:
    """``MESZ6`` -> ("MES", "Z", 6); anything not ROOT + month code + 1-digit year -> None."""
    if len(name) < 4 or not name[-1].isdigit() or name[-2] not in MONTH_CODES:
        return None
    root = name[:-2]
    if root not in ROOTS:
        return None
    return root, name[-2], int(name[-1])


class Catalog:
    """Products and contracts with ids that stay stable for a name for the whole process
    (a reset of the exchange does not renumber them)."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {
            spec.root: Product(id=4000001 + i, spec=spec) for i, spec in enumerate(ROOTS.values())
        }
        self.products_by_id: dict[int, Product] = {p.id: p for p in self.products.values()}
        self.contracts: dict[str, Contract] = {}
        self.contracts_by_id: dict[int, Contract] = {}
        self._next_contract_id = 3000001
        self._next_maturity_id = 2000001

    def contract(self, name: str) -> Contract | None:
        """The contract of that name, created on first use; None when the name is not one."""
        found = self.contracts.get(name)
        if found is not None:
            return found
        parts = split_name(name)
        if parts is None:
            return None
        contract = Contract(
            id=self._next_contract_id,
            name=name,
            product=self.products[parts[0]],
            contract_maturity_id=self._next_maturity_id,
        )
        self._next_contract_id += 1
        self._next_maturity_id += 1
        self.contracts[name] = contract
        self.contracts_by_id[contract.id] = contract
        return contract
