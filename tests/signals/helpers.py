from __future__ import annotations

import json
from typing import Any

from trading.execution import signal_execute
from trading.models import Signal, SignalOutcome, Strategy
from trading.services import signal_receive


def send(strategy: Strategy, **fields: Any) -> Signal:
    """Receive an alert and execute it (the task's service, called directly)."""
    received = signal_receive(strategy=strategy, raw=json.dumps(fields).encode())
    assert received.status == "accepted", received.reason
    return signal_execute(signal_id=received.signal.pk)


def only_outcome(signal: Signal) -> SignalOutcome:
    (outcome,) = signal.outcomes.all()
    return outcome


def position(sim: Any, account_id: int = 1001) -> int:
    return sum(
        p["netPos"] for p in sim.control.state()["positions"] if p["accountId"] == account_id
    )


def working(sim: Any, account_id: int = 1001) -> list[dict[str, Any]]:
    return [
        o
        for o in sim.control.state()["orders"]
        if o["ordStatus"] in ("Working", "Suspended") and o["accountId"] == account_id
    ]


def sim_post(
    sim: Any, endpoint: str, body: dict[str, Any], *, name: str = "demo", password: str = ""
) -> Any:
    """A REST call at the simulator outside Bracketeer (by hand, another tool), logged in as
    the simulator user ``name``."""
    import httpx

    token = httpx.post(
        f"{sim.rest_url}/auth/accesstokenrequest",
        json={"name": name, "password": password or f"{name}-password"},
    ).json()["accessToken"]
    response = httpx.post(
        f"{sim.rest_url}/{endpoint}", headers={"Authorization": f"Bearer {token}"}, json=body
    )
    response.raise_for_status()
    return response.json()


def outside_order(
    sim: Any, action: str, qty: int, *, account_id: int = 1001, symbol: str = "MNQZ6"
) -> None:
    """A market order placed at the simulator outside Bracketeer (by hand, another tool)."""
    sim_post(
        sim,
        "order/placeorder",
        {
            "accountId": account_id,
            "action": action,
            "symbol": symbol,
            "orderQty": qty,
            "orderType": "Market",
        },
    )


def asgi_request(method: str, path: str, body: bytes = b"", host: str = "localhost") -> Any:
    """One request through ``config.asgi.application``, the app production serves (the
    webhook's own door included), not Django's test client."""
    import asyncio

    import httpx

    from config.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            return await client.request(
                method, path, content=body, headers={"content-type": "text/plain"}
            )

    return asyncio.run(go())
