"""Copy groups and followers: created, changed and switched only here, with the rules that keep
copying safe (D28: no cycles; one leader per follower) and the plan's limits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Subaccount, User
from billing.limits import plan_feature_check, plan_limit_check
from copytrade.models import CopyGroup, Follower
from trading.contracts import contract_spec
from trading.models import TraderAccount


class CopySetupError(ValueError):
    """A copy group or follower that cannot be saved as asked; the message says why."""


@dataclass(frozen=True)
class Saved:
    follower: Follower
    warnings: tuple[str, ...] = ()


def _own_subaccount(*, user: User, subaccount: Subaccount) -> None:
    if subaccount.connection.user_id != user.pk:
        raise CopySetupError("That trading account is not yours.")
    if not subaccount.active or subaccount.connection.archived_at is not None:
        raise CopySetupError(f"{subaccount.name} is not in use (its connection was removed).")


def copy_group_create(*, user: User, name: str, leader: Subaccount) -> CopyGroup:
    """Create ``user``'s copy group led by ``leader`` (their own account), if the plan includes
    copy trading. The leader may not follow anyone in a way that closes a loop: checked as
    followers are added."""
    plan_feature_check(user=user, feature="copy_trading")
    _own_subaccount(user=user, subaccount=leader)
    try:
        with transaction.atomic():
            return CopyGroup.objects.create(user=user, name=name.strip(), leader=leader)
    except IntegrityError:
        raise CopySetupError(f"You already have a copy group named “{name}”.") from None


def copy_path(*, start: Subaccount, goal: Subaccount) -> list[Subaccount] | None:
    """A chain of leader -> follower links (any group, enabled or not) from ``start`` to
    ``goal``, or None."""
    edges: dict[int, list[Subaccount]] = {}
    for follower in Follower.objects.select_related("group__leader", "subaccount"):
        edges.setdefault(follower.group.leader_id, []).append(follower.subaccount)
    paths: dict[int, list[Subaccount]] = {start.pk: [start]}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt in edges.get(node.pk, []):
            if nxt.pk in paths:
                continue
            paths[nxt.pk] = [*paths[node.pk], nxt]
            if nxt.pk == goal.pk:
                return paths[nxt.pk]
            todo.append(nxt)
    return None


def symbol_map_checked(symbol_map: dict[str, str]) -> dict[str, str]:
    """The contract mapping in upper case, every root known; else ``CopySetupError`` naming
    the pair."""
    mapping = {k.strip().upper(): v.strip().upper() for k, v in symbol_map.items()}
    for root, mapped in mapping.items():
        try:
            contract_spec(root), contract_spec(mapped)
        except ValueError as exc:
            raise CopySetupError(f"Contract mapping {root} → {mapped}: {exc}") from None
    return mapping


def follower_add(
    *,
    group: CopyGroup,
    subaccount: Subaccount,
    ratio: Decimal = Decimal(1),
    fixed_qty: int | None = None,
    max_contracts: int | None = None,
    symbol_map: dict[str, str] | None = None,
    copy_exits: bool = True,
    enabled: bool = True,
    max_daily_loss: Decimal | None = None,
) -> Saved:
    """Add ``subaccount`` (the group owner's) as a follower, within the plan's follower limit.

    Refused, saying why: the leader itself; an account that already follows a leader (one
    leader per account, so a symbol is never copied twice onto it); a link that closes a loop
    (the follower leads, directly or through others, this group's leader: the path is named,
    D28); a ratio of 0; a mapping to a root we do not know. Warned: the account also trades the
    strategy signals of its own traders."""
    user = group.user
    _own_subaccount(user=user, subaccount=subaccount)
    plan_feature_check(user=user, feature="copy_trading")
    if subaccount.pk == group.leader_id:
        raise CopySetupError(f"{subaccount.name} leads this group: it cannot follow itself.")
    if fixed_qty is None and ratio == 0:
        raise CopySetupError("A ratio of 0 would copy nothing: use a ratio or a fixed quantity.")
    mapping = symbol_map_checked(symbol_map or {})
    loop = copy_path(start=subaccount, goal=group.leader)
    if loop is not None:
        chain = " → ".join(s.name for s in [*loop, subaccount])
        raise CopySetupError(
            f"{subaccount.name} cannot follow {group.leader.name}: {chain} would copy in a loop "
            "(each fill copied back and forth)."
        )
    with transaction.atomic():
        current = Follower.objects.select_for_update().filter(group__user=user)
        elsewhere = current.filter(subaccount=subaccount).select_related("group").first()
        if elsewhere is not None:
            raise CopySetupError(
                f"{subaccount.name} already follows {elsewhere.group.leader.name} in "
                f"“{elsewhere.group.name}”: an account follows one leader."
            )
        plan_limit_check(user=user, limit="followers", current=current.count())
        follower = Follower.objects.create(
            group=group,
            subaccount=subaccount,
            ratio=ratio,
            fixed_qty=fixed_qty,
            max_contracts=max_contracts,
            symbol_map=mapping,
            copy_exits=copy_exits,
            enabled=enabled,
            max_daily_loss=max_daily_loss,
        )
    warnings = []
    traders = TraderAccount.objects.filter(subaccount=subaccount, enabled=True).select_related(
        "trader"
    )
    for account in traders:
        warnings.append(
            f"{subaccount.name} also trades for your trader “{account.trader.name}”: its "
            "signals and the copies act on the same position."
        )
    return Saved(follower=follower, warnings=tuple(warnings))


def copy_group_enabled_set(*, group: CopyGroup, enabled: bool) -> CopyGroup:
    """Switch copying on or off; stored only here (nothing resets it at start-up, D31)."""
    if enabled:
        plan_feature_check(user=group.user, feature="copy_trading")
    CopyGroup.objects.filter(pk=group.pk).update(enabled=enabled)
    group.enabled = enabled
    return group


def follower_update(*, follower: Follower, **fields: Any) -> Follower:
    """Set the given fields (ratio, fixed_qty, max_contracts, symbol_map, copy_exits, enabled,
    max_daily_loss), refused like ``follower_add`` (a ratio of 0 without a fixed quantity, an
    unknown root in the mapping) with ``CopySetupError``; nothing is saved then."""
    allowed = {
        "ratio",
        "fixed_qty",
        "max_contracts",
        "symbol_map",
        "copy_exits",
        "enabled",
        "max_daily_loss",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a follower setting: {sorted(unknown)}")
    if "symbol_map" in fields:
        fields["symbol_map"] = symbol_map_checked(fields["symbol_map"] or {})
    ratio = fields.get("ratio", follower.ratio)
    fixed_qty = fields.get("fixed_qty", follower.fixed_qty)
    if fixed_qty is None and ratio == 0:
        raise CopySetupError("A ratio of 0 would copy nothing: use a ratio or a fixed quantity.")
    for name, value in fields.items():
        setattr(follower, name, value)
    follower.save(update_fields=list(fields))
    return follower


def follower_rearm(*, follower: Follower) -> Follower:
    """A disarmed follower copies again (its owner's decision)."""
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.IN_SYNC, sync_reason="", sync_changed_at=timezone.now()
    )
    follower.refresh_from_db()
    return follower


def follower_remove(*, follower: Follower) -> None:
    """The account stops following. Its positions and orders at the broker are not touched;
    its lines in the copy log are deleted with it (``CopyOutcome`` cascades)."""
    Follower.objects.filter(pk=follower.pk).delete()
