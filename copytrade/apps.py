from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class CopytradeConfig(AppConfig):
    name = "copytrade"
    verbose_name = "Copy trading"

    def ready(self) -> None:
        from trading.mirror_signals import fill_recorded, orders_changed, stream_accounts_wanted

        fill_recorded.connect(_leader_fill, dispatch_uid="copytrade.leader_fill")
        stream_accounts_wanted.connect(_copy_accounts, dispatch_uid="copytrade.stream_accounts")
        orders_changed.connect(_leader_orders, dispatch_uid="copytrade.leader_orders")


def _leader_orders(sender: Any, *, order_pks: list[int], **_: Any) -> int:
    """Orders changed at the broker: for each changed take-profit or stop of a leader whose
    group copies exits, its followers' copies are brought in line (queued). Returns how many
    syncs were queued."""
    from copytrade.exits import EXIT_TYPES
    from copytrade.models import CopyGroup
    from copytrade.tasks import sync_exits
    from trading.models import Order

    changed = set(
        Order.objects.filter(pk__in=order_pks, order_type__in=EXIT_TYPES).values_list(
            "subaccount_id", "symbol"
        )
    )
    if not changed:
        return 0
    groups = CopyGroup.objects.filter(
        enabled=True,
        leader_id__in={account for account, _ in changed},
        followers__enabled=True,
        followers__copy_exits=True,
    ).distinct()
    queued = 0
    for group in groups:
        for account, symbol in sorted(changed):
            if account == group.leader_id:
                sync_exits.delay(group.pk, symbol)
                queued += 1
    return queued


def _copy_accounts(sender: Any, **_: Any) -> set[int]:
    """The accounts of enabled copy groups (leaders and followers) are streamed: a leader's
    fills are what is copied, a follower's show whether it is in sync."""
    from copytrade.models import CopyGroup, Follower

    leaders = CopyGroup.objects.filter(enabled=True).values_list("leader_id", flat=True)
    followers = Follower.objects.filter(group__enabled=True, enabled=True).values_list(
        "subaccount_id", flat=True
    )
    return {*leaders, *followers}


def _leader_fill(sender: Any, *, fill_pk: int, subaccount_pk: int, **_: Any) -> bool:
    """The mirror recorded a fill: when its account leads an enabled copy group that existed
    when the fill happened, the fill is queued for copying (the task decides the rest). A fill
    from before the group (an account's history, first synced) is not the group's: no copy
    event is logged for it. True when queued."""
    from copytrade.models import CopyGroup
    from copytrade.tasks import copy_fill
    from trading.models import Fill

    filled_at = Fill.objects.filter(pk=fill_pk).values_list("filled_at", flat=True).first()
    groups = CopyGroup.objects.filter(leader_id=subaccount_pk, enabled=True)
    if filled_at is None or not groups.filter(created_at__lte=filled_at).exists():
        return False
    copy_fill.delay(fill_pk)
    return True
