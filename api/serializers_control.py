"""What the control actions answer: what is open at the broker, and what closing did."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from trading.control import AccountCloseResult, AccountExposure


class BrokerPositionOut(serializers.Serializer[Any]):
    contract_id = serializers.IntegerField()
    symbol = serializers.CharField()
    net_pos = serializers.IntegerField()


class WorkingOrderOut(serializers.Serializer[Any]):
    order_id = serializers.IntegerField()
    symbol = serializers.CharField()


class ExposureOut(serializers.Serializer[Any]):
    account = serializers.IntegerField(source="subaccount.pk")
    account_name = serializers.CharField(source="subaccount.name")
    positions = BrokerPositionOut(many=True)
    working_orders = WorkingOrderOut(many=True)
    error = serializers.CharField(help_text="The broker's words when it could not be read.")


class ExposureResult(serializers.Serializer[Any]):
    fingerprint = serializers.CharField(
        help_text="Send it with close-all to close only if nothing changed meanwhile."
    )
    accounts = ExposureOut(many=True)


class CloseAllInput(serializers.Serializer[Any]):
    fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="From the exposure read: refused with 409 if what is open changed since.",
    )


class CloseResultOut(serializers.Serializer[Any]):
    account = serializers.IntegerField(source="subaccount.pk")
    account_name = serializers.CharField(source="subaccount.name")
    cancelled = WorkingOrderOut(many=True)
    flattened = BrokerPositionOut(many=True)
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    ok = serializers.BooleanField()


class CloseAllResult(serializers.Serializer[Any]):
    all_ok = serializers.BooleanField()
    accounts = CloseResultOut(many=True)


def exposure_data(exposures: list[AccountExposure], fingerprint: str) -> Any:
    return ExposureResult({"fingerprint": fingerprint, "accounts": exposures}).data


def close_data(results: list[AccountCloseResult]) -> Any:
    return CloseAllResult({"all_ok": all(r.ok for r in results), "accounts": results}).data


EXPOSURE_EXAMPLE = {
    "fingerprint": "9f2c41d0a7b3e5c8d1f04a2b",
    "accounts": [
        {
            "account": 3,
            "account_name": "DEMO1001",
            "positions": [{"contract_id": 4012, "symbol": "MNQZ6", "net_pos": 2}],
            "working_orders": [{"order_id": 90123, "symbol": "MNQZ6"}],
            "error": "",
        }
    ],
}
CLOSE_EXAMPLE = {
    "all_ok": True,
    "accounts": [
        {
            "account": 3,
            "account_name": "DEMO1001",
            "cancelled": [{"order_id": 90123, "symbol": "MNQZ6"}],
            "flattened": [{"contract_id": 4012, "symbol": "MNQZ6", "net_pos": 2}],
            "errors": [],
            "ok": True,
        }
    ],
}
