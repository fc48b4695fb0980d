"""ASGI entry point: HTTP through Django, browser WebSockets through Channels.

WebSockets pass the same-origin check (scheme, host and port: config/websocket_origin.py),
then session authentication; the live consumer refuses anonymous connections itself.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the routing imports models

from config.startup import run_startup_checks  # noqa: E402

run_startup_checks()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.websocket_origin import SameOriginValidator  # noqa: E402
from trading.routing import websocket_urlpatterns  # noqa: E402
from trading.webhooks import webhook_asgi, webhook_token_for  # noqa: E402


async def http_app(scope: Any, receive: Any, send: Any) -> None:
    """TradingView's webhook by its own door (trading/webhooks.py); everything else Django."""
    token = webhook_token_for(scope)
    if token is not None:
        await webhook_asgi(scope, receive, send, token=token)
    else:
        await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
