"""Every named URL of the project, and how to build the arguments of those that need them.

When a later issue adds a URL with arguments, it adds an entry to ``URL_OBJECTS`` (a factory
that creates the owner's object and returns the URL kwargs). The D01 test fails until it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from tests.factories import (
    BrokerConnectionFactory,
    StrategyFactory,
    SubaccountFactory,
    TraderAccountFactory,
    TraderFactory,
)


def _activation(owner: User) -> dict[str, Any]:
    from billing.tokens import activation_token_make

    return {"token": activation_token_make(user=owner)}


def _password_reset(owner: User) -> dict[str, Any]:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {
        "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
        "token": default_token_generator.make_token(owner),
    }


def _strategy(owner: User) -> dict[str, Any]:
    return {"pk": StrategyFactory.create(user=owner).pk}


def _trader(owner: User) -> dict[str, Any]:
    return {"pk": TraderFactory.create(strategy__user=owner).pk}


def _trader_account(owner: User) -> dict[str, Any]:
    account = TraderAccountFactory.create(
        trader__strategy__user=owner, subaccount__connection__user=owner
    )
    return {"pk": account.pk}


def _signal(owner: User) -> dict[str, Any]:
    from trading.models import Signal

    signal = Signal.objects.create(
        strategy=StrategyFactory.create(user=owner),
        idempotency_key=f"urlmap:{owner.pk}:{uuid.uuid4().hex}",
        raw_body="{}",
        status=Signal.Status.REJECTED,
        rejection_reason="The alert has no action.",
    )
    return {"pk": signal.pk}


def _trader_with_account(owner: User) -> dict[str, Any]:
    account = TraderAccountFactory.create(
        trader__strategy__user=owner, subaccount__connection__user=owner
    )
    return {"pk": account.trader_id}


def _copy_group(owner: User) -> dict[str, Any]:
    from copytrade.models import CopyGroup

    leader = SubaccountFactory.create(connection__user=owner)
    return {"pk": CopyGroup.objects.create(user=owner, name=f"Main {leader.pk}", leader=leader).pk}


def _follower(owner: User) -> dict[str, Any]:
    from copytrade.models import CopyGroup, Follower

    leader = SubaccountFactory.create(connection__user=owner)
    group = CopyGroup.objects.create(user=owner, name=f"Followed {leader.pk}", leader=leader)
    account = SubaccountFactory.create(connection=leader.connection)
    return {"pk": Follower.objects.create(group=group, subaccount=account).pk}


def _trade(owner: User) -> dict[str, Any]:
    from analytics.models import Trade
    from analytics.services import trades_rebuild
    from tests.factories import FillFactory

    fill = FillFactory.create(subaccount__connection__user=owner, contract_id=4000)
    trades_rebuild(subaccount_pk=fill.subaccount_id, contract_id=4000)
    return {"pk": Trade.objects.get(subaccount_id=fill.subaccount_id).pk}


def _position(owner: User) -> dict[str, Any]:
    from tests.factories import PositionFactory

    return {"pk": PositionFactory.create(subaccount__connection__user=owner, net_pos=2).pk}


def _working_order(owner: User) -> dict[str, Any]:
    from tests.factories import OrderFactory

    return {"pk": OrderFactory.create(subaccount__connection__user=owner).pk}


def _fill(owner: User) -> dict[str, Any]:
    from tests.factories import FillFactory

    return {"pk": FillFactory.create(subaccount__connection__user=owner).pk}


def _subaccount(owner: User) -> dict[str, Any]:
    return {"pk": SubaccountFactory.create(connection__user=owner).pk}


def _api_key(owner: User) -> dict[str, Any]:
    from api.models import ApiKey

    key = ApiKey.objects.create(
        user=owner, name="script", prefix=f"bk_u{owner.pk}", secret_hash="0" * 64
    )
    return {"pk": key.pk}


# The public API (api/urls.py): every route the router knows, by name.
API_URL_OBJECTS: dict[str, Callable[[User], dict[str, Any]]] = {
    "connection-detail": lambda owner: {"pk": BrokerConnectionFactory.create(user=owner).pk},
    "strategy-detail": _strategy,
    "strategy-rotate-token": _strategy,
    "strategy-test-alert": _strategy,
    "strategy-preview": _strategy,
    "trader-detail": _trader,
    "trader-enable": _trader,
    "trader-disable": _trader,
    "trader-exposure": _trader_with_account,
    "trader-close-all": _trader_with_account,
    "trader-account-detail": _trader_account,
    "trading-account-detail": _subaccount,
    "trading-account-exposure": _subaccount,
    "trading-account-close-all": _subaccount,
    "signal-detail": _signal,
    "position-detail": _position,
    "working-order-detail": _working_order,
    "fill-detail": _fill,
    "trade-detail": _trade,
    "copy-group-detail": _copy_group,
    "follower-detail": _follower,
}


URL_OBJECTS: dict[str, Callable[[User], dict[str, Any]]] = {
    # One-time links: the owner's own link works; another logged-in tenant gets 404.
    "billing:activate": _activation,
    # The sign-up confirmation link (the same signed token, bound to the account's state).
    "accounts:signup_confirm": _activation,
    "billing:password_reset_confirm": _password_reset,
    "accounts:connection_detail": lambda owner: {
        "pk": BrokerConnectionFactory.create(user=owner).pk
    },
    "accounts:connection_test": lambda owner: {"pk": BrokerConnectionFactory.create(user=owner).pk},
    "accounts:connection_delete": lambda owner: {
        "pk": BrokerConnectionFactory.create(user=owner).pk
    },
    # Not a tenant page: the token is the only key. An unknown token answers 404 to anyone
    # (the literal path with a real token is D12's test).
    "tradingview_webhook": lambda owner: {"token": f"no-such-token-{owner.pk}"},
    "trading:strategy_detail": _strategy,
    "trading:strategy_edit": _strategy,
    "trading:strategy_test_alert": _strategy,
    "trading:strategy_preview": _strategy,
    "trading:trader_detail": _trader,
    "trading:trader_edit": _trader,
    "trading:trader_account_add": _trader,
    "trading:trader_account_edit": _trader_account,
    "trading:trader_account_remove": _trader_account,
    "trading:signal_detail": _signal,
    "trading:signal_live": _signal,
    "trading:strategy_archive": _strategy,
    "trading:strategy_restore": _strategy,
    "trading:trader_archive": _trader,
    "trading:trader_restore": _trader,
    "trading:trader_toggle": _trader,
    # A connection without a login: the confirmation page says the broker could not be read.
    "trading:trader_close": _trader_with_account,
    "trading:account_close": lambda owner: {
        "pk": SubaccountFactory.create(connection__user=owner).pk
    },
    "trading:trader_close_state": _trader_with_account,
    "trading:account_close_state": lambda owner: {
        "pk": SubaccountFactory.create(connection__user=owner).pk
    },
    "copytrade:group_detail": _copy_group,
    "copytrade:group_live": _copy_group,
    "copytrade:group_toggle": _copy_group,
    "copytrade:leader_trade": _copy_group,
    "copytrade:follower_add": _copy_group,
    "copytrade:copy_log": _copy_group,
    "copytrade:copy_log_live": _copy_group,
    "copytrade:follower_edit": _follower,
    "copytrade:follower_remove": _follower,
    "copytrade:follower_resync": _follower,
    "copytrade:follower_rearm": _follower,
    "analytics:trade_detail": _trade,
    "api_keys:revoke": _api_key,
    **API_URL_OBJECTS,
}
# URLs that are not "pages for a tenant": how they are requested and what they may answer.
SPECIAL: dict[str, dict[str, Any]] = {
    "accounts:logout": {"method": "post", "ok": {302}},
    "healthz": {"method": "get", "ok": {200, 503}},  # 503 without worker/beat: the truth
    # POST-only; a connection without a login is tested, the failure recorded, and redirected.
    "accounts:connection_test": {"method": "post", "ok": {302}},
    "billing:whop_webhook": {"method": "get", "ok": {405}},  # POST only (D12 posts to it)
    "tradingview_webhook": {"method": "post", "ok": {404}},
    # POST-only trading actions: a sample alert is stored and the signal shown (302); an empty
    # account form or toggle is bad input (400); removing an account redirects (302).
    "trading:strategy_test_alert": {"method": "post", "ok": {302}},
    "trading:strategy_preview": {"method": "post", "ok": {200}},
    "trading:trader_account_add": {"method": "post", "ok": {400}},
    "trading:trader_account_remove": {"method": "post", "ok": {302}},
    "trading:trader_toggle": {"method": "post", "ok": {400}},
    # Restoring is POST-only and redirects to the restored object.
    "trading:strategy_restore": {"method": "post", "ok": {302}},
    "trading:trader_restore": {"method": "post", "ok": {302}},
    # Copy trading's POST-only actions: an empty toggle or follower form is bad input (400);
    # removing, re-arming and resyncing (refused or failed: said in a message) redirect (302).
    "copytrade:group_toggle": {"method": "post", "ok": {400}},
    "copytrade:leader_trade": {"method": "post", "ok": {302}},  # nothing asked: said, sent none
    "copytrade:follower_add": {"method": "post", "ok": {400}},
    "copytrade:follower_remove": {"method": "post", "ok": {302}},
    "copytrade:follower_rearm": {"method": "post", "ok": {302}},
    "copytrade:follower_resync": {"method": "post", "ok": {302}},
    # Setting a fee is POST-only; an empty form is refused in a message on the trades page.
    "analytics:fee_rate_save": {"method": "post", "ok": {302}},
    "api_keys:revoke": {"method": "post", "ok": {302}},
    # API actions (POST): a test alert is stored (201); switching on needs a plan (403 without
    # one); a close reads a connection without a login and says so per account (200).
    "strategy-rotate-token": {"method": "post", "ok": {200}},
    "strategy-test-alert": {"method": "post", "ok": {201}},
    "strategy-preview": {"method": "post", "ok": {200}},
    "trader-enable": {"method": "post", "ok": {200, 403}},
    "trader-disable": {"method": "post", "ok": {200}},
    "trader-close-all": {"method": "post", "ok": {200}},
    "trading-account-close-all": {"method": "post", "ok": {200}},
}
EXCLUDED_NAMESPACES = {"admin"}  # covered by the admin test, staff only


def named_urls() -> Iterator[str]:
    """Fully qualified names of every named URL pattern (namespaces joined with ':')."""
    seen: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                if p.namespace in EXCLUDED_NAMESPACES:
                    continue
                yield from walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{prefix}{p.name}"
                if name not in seen:
                    seen.add(name)
                    yield name

    yield from walk(get_resolver().url_patterns, "")
