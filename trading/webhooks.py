"""The TradingView webhook: validate, store, enqueue, answer. Never broker I/O here (D10)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from trading.alerts import MAX_BODY_BYTES
from trading.models import Strategy
from trading.services import signal_receive


@csrf_exempt  # on the view itself: the literal path is tested with CSRF checks on (D12)
@require_POST
def tradingview_webhook(request: HttpRequest, token: str) -> JsonResponse:
    strategy = Strategy.objects.filter(webhook_token=token).only("pk", "enabled").first()
    if strategy is None:
        return JsonResponse(
            {
                "status": "unknown",
                "reason": "No strategy has this webhook URL. Copy the "
                "URL again from the strategy page.",
            },
            status=404,
        )
    if not strategy.enabled:
        return JsonResponse(
            {"status": "disabled", "reason": "This strategy is switched off."}, status=409
        )
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        return JsonResponse(
            {"status": "rejected", "reason": f"The alert body is over {MAX_BODY_BYTES} bytes."},
            status=413,
        )
    received = signal_receive(strategy=strategy, raw=raw, content_type=request.content_type or "")
    body = {"status": received.status, "signal_id": received.signal.pk}
    if received.status == "rejected":
        body["reason"] = received.reason
        return JsonResponse(body, status=400)
    return JsonResponse(body, status=200)
