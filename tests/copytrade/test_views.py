"""The copy-trading pages: groups, followers, the toggle, the copy log; every URL is the
owner's only (another tenant gets 404 on read and write, a foreign id in a form is refused)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Subaccount, User
from billing.models import Plan
from billing.services import membership_grant
from copytrade.models import CopyEvent, CopyGroup, CopyOutcome, Follower
from copytrade.services import copy_group_create, follower_add
from tests.factories import FillFactory, SubaccountFactory, TraderAccountFactory

pytestmark = pytest.mark.django_db


def _accounts(user: User, *names: str) -> list[Subaccount]:
    first = SubaccountFactory.create(connection__user=user, name=names[0])
    rest = [SubaccountFactory.create(connection=first.connection, name=n) for n in names[1:]]
    return [first, *rest]


@pytest.fixture
def accounts(member: User) -> list[Subaccount]:
    return _accounts(member, "LEAD1", "FOLLOW2", "FOLLOW3")


@pytest.fixture
def group(member: User, accounts: list[Subaccount]) -> CopyGroup:
    return copy_group_create(user=member, name="Main", leader=accounts[0])


def _follower_post(subaccount: Subaccount, **fields: Any) -> dict[str, Any]:
    data = {"subaccount": subaccount.pk, "ratio": "1", "copy_exits": "on", "enabled": "on"}
    data.update(fields)
    return data


def test_a_group_is_created_with_a_leader_among_the_users_own_accounts(
    owner_client: Client, accounts: list[Subaccount], other_user: User
) -> None:
    page = owner_client.get(reverse("copytrade:group_create"))
    assert b"LEAD1" in page.content
    foreign = SubaccountFactory.create(connection__user=other_user, name="THEIRS")
    assert b"THEIRS" not in page.content

    refused = owner_client.post(
        reverse("copytrade:group_create"), {"name": "Main", "leader": foreign.pk}
    )
    assert refused.status_code == 400
    assert not CopyGroup.objects.exists()

    response = owner_client.post(
        reverse("copytrade:group_create"), {"name": " Main ", "leader": accounts[0].pk}
    )
    group = CopyGroup.objects.get()
    assert response["Location"] == reverse("copytrade:group_detail", args=[group.pk])
    assert (group.name, group.leader, group.enabled) == ("Main", accounts[0], True)
    again = owner_client.post(
        reverse("copytrade:group_create"), {"name": "Main", "leader": accounts[1].pk}
    )
    assert again.status_code == 400
    assert "You already have a copy group named “Main”." in again.content.decode()


def test_a_plan_without_copy_trading_refuses_a_group_in_the_plans_words(
    user: User, owner_client: Client, plan: Plan
) -> None:
    membership_grant(user=user, plan=Plan.objects.get(slug="basic"), granted_by=None)
    leader = _accounts(user, "LEAD1")[0]
    response = owner_client.post(
        reverse("copytrade:group_create"), {"name": "Main", "leader": leader.pk}
    )
    assert response.status_code == 400
    assert (
        "Your Basic plan does not include copy trading. Upgrade your plan on Whop."
        in response.content.decode()
    )
    assert not CopyGroup.objects.exists()


def test_adding_followers_shows_their_sizing_mapping_and_sync_state(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount]
) -> None:
    empty = owner_client.get(reverse("copytrade:group_detail", args=[group.pk])).content
    assert "A negative ratio trades the opposite way" in empty.decode()
    add = reverse("copytrade:follower_add", args=[group.pk])
    response = owner_client.post(
        add, _follower_post(accounts[1], ratio="-1", symbol_map="nq = mnq\n\nES→MES")
    )
    assert response.status_code == 302
    inverse = Follower.objects.get(subaccount=accounts[1])
    assert (inverse.ratio, inverse.symbol_map) == (Decimal(-1), {"NQ": "MNQ", "ES": "MES"})
    owner_client.post(
        add, _follower_post(accounts[2], fixed_qty="3", max_contracts="2", copy_exits="")
    )
    fixed = Follower.objects.get(subaccount=accounts[2])
    assert (fixed.fixed_qty, fixed.max_contracts, fixed.copy_exits) == (3, 2, False)
    Follower.objects.filter(pk=fixed.pk).update(
        sync_state=Follower.SyncState.DRIFTED, sync_reason="holds +1, target +2"
    )

    page = owner_client.get(reverse("copytrade:group_detail", args=[group.pk])).content.decode()
    assert "× -1 (inverse)" in page
    assert "ES → MES, NQ → MNQ" in page
    assert "fixed 3" in page
    assert 'Drifted</span> <span class="small sync-reason">holds +1, target +2' in page
    ids = f"{accounts[0].pk} {accounts[1].pk} {accounts[2].pk}"
    assert f'data-live-accounts="{ids}"' in page  # its part re-reads on their frames
    assert "Every trading account you have is in this group already." in page
    listing = owner_client.get(reverse("copytrade:group_list")).content.decode()
    assert "FOLLOW2" in listing and "In sync" in listing and "Drifted" in listing


def test_a_bad_mapping_or_a_foreign_account_is_refused_with_the_reason(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount], other_user: User
) -> None:
    add = reverse("copytrade:follower_add", args=[group.pk])
    bad = owner_client.post(add, _follower_post(accounts[1], symbol_map="NQ MNQ"))
    assert bad.status_code == 400
    assert "Line 1 (“NQ MNQ”) is not a mapping: write it as NQ=MNQ" in bad.content.decode()
    unknown = owner_client.post(add, _follower_post(accounts[1], symbol_map="NQ=XYZ"))
    assert unknown.status_code == 400
    assert "Contract mapping NQ → XYZ" in unknown.content.decode()
    foreign = SubaccountFactory.create(connection__user=other_user)
    assert owner_client.post(add, _follower_post(foreign)).status_code == 400
    assert not Follower.objects.exists()


def test_a_follower_on_a_trader_account_is_added_with_the_warning_shown(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount], member: User
) -> None:
    TraderAccountFactory.create(
        trader__strategy__user=member, trader__name="Breakout", subaccount=accounts[1]
    )
    response = owner_client.post(
        reverse("copytrade:follower_add", args=[group.pk]),
        _follower_post(accounts[1]),
        follow=True,
    )
    assert Follower.objects.filter(subaccount=accounts[1]).exists()
    assert "FOLLOW2 also trades for your trader “Breakout”" in response.content.decode()


def test_a_loop_is_refused_with_the_path_shown(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount], member: User
) -> None:
    follower_add(group=group, subaccount=accounts[1])  # LEAD1 -> FOLLOW2
    chained = copy_group_create(user=member, name="Chained", leader=accounts[1])
    follower_add(group=chained, subaccount=accounts[2])  # FOLLOW2 -> FOLLOW3
    third = copy_group_create(user=member, name="Third", leader=accounts[2])
    response = owner_client.post(
        reverse("copytrade:follower_add", args=[third.pk]), _follower_post(accounts[0])
    )
    assert response.status_code == 400
    assert (
        "LEAD1 cannot follow FOLLOW3: LEAD1 → FOLLOW2 → FOLLOW3 → LEAD1 would copy in a loop"
        in response.content.decode()
    )
    assert not Follower.objects.filter(group=third).exists()


def test_a_follower_is_edited_switched_rearmed_and_removed(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount]
) -> None:
    follower = follower_add(group=group, subaccount=accounts[1]).follower
    edit = reverse("copytrade:follower_edit", args=[follower.pk])
    form = owner_client.get(edit).content.decode()
    assert 'value="1"' in form  # the ratio as typed, not 1.0000
    zero = owner_client.post(edit, {"ratio": "0"})
    assert zero.status_code == 400
    assert "A ratio of 0 would copy nothing" in zero.content.decode()
    owner_client.post(edit, {"ratio": "0.5", "symbol_map": "NQ=MNQ", "max_contracts": "4"})
    follower.refresh_from_db()
    assert (follower.ratio, follower.symbol_map, follower.max_contracts) == (
        Decimal("0.5"),
        {"NQ": "MNQ"},
        4,
    )
    assert (follower.enabled, follower.copy_exits) == (False, False)  # unticked boxes

    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.DISARMED, sync_reason="daily loss limit hit"
    )
    page = owner_client.get(reverse("copytrade:group_detail", args=[group.pk])).content.decode()
    assert "Re-arm FOLLOW2" in page and "Resync FOLLOW2" not in page
    owner_client.post(reverse("copytrade:follower_rearm", args=[follower.pk]))
    follower.refresh_from_db()
    assert (follower.sync_state, follower.sync_reason) == (Follower.SyncState.IN_SYNC, "")

    response = owner_client.post(
        reverse("copytrade:follower_remove", args=[follower.pk]), follow=True
    )
    assert not Follower.objects.exists()
    assert "FOLLOW2 no longer follows. Its positions and orders were not touched." in (
        response.content.decode()
    )


def test_the_toggle_is_stored_and_a_fresh_request_reads_it(
    owner_client: Client, group: CopyGroup, member: User
) -> None:
    """D31: the switch lives in the database; a new session (another process) sees it."""
    toggle = reverse("copytrade:group_toggle", args=[group.pk])
    assert owner_client.post(toggle, {}).status_code == 400
    owner_client.post(toggle, {"enabled": "off"})
    fresh = Client()
    fresh.force_login(member)
    page = fresh.get(reverse("copytrade:group_detail", args=[group.pk])).content.decode()
    assert "copying off" in page and "Enable copying" in page
    assert CopyGroup.objects.get().enabled is False
    response = fresh.post(toggle, {"enabled": "on", "back": "list"})
    assert response["Location"] == reverse("copytrade:group_list")
    assert CopyGroup.objects.get().enabled is True


def test_the_copy_log_lists_each_leader_fill_with_every_followers_outcome_newest_first(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount]
) -> None:
    follower = follower_add(group=group, subaccount=accounts[1], ratio=Decimal(2)).follower
    now = timezone.now()
    old, new = (
        CopyEvent.objects.create(
            group=group,
            leader_fill=FillFactory.create(subaccount=accounts[0], side=side, filled_at=now),
            symbol="MNQZ6",
            leader_position=pos,
            finished_at=now,
        )
        for side, pos in (("Buy", 1), ("Sell", 0))
    )
    CopyOutcome.objects.create(
        event=old,
        follower=follower,
        symbol="MNQZ6",
        status=CopyOutcome.Status.DONE,
        target=2,
        held_before=0,
        delta=2,
        reason="+0 -> +2 (target +2)",
        started_at=now,
        finished_at=now,
    )
    CopyOutcome.objects.create(
        event=new,
        follower=follower,
        symbol="MNQZ6",
        status=CopyOutcome.Status.FAILED,
        target=0,
        error="placing the copy order: the broker refused: TradingLocked",
        started_at=now,
        finished_at=now,
    )
    page = owner_client.get(reverse("copytrade:copy_log", args=[group.pk])).content.decode()
    assert page.index(f'id="event-{new.pk}"') < page.index(f'id="event-{old.pk}"')
    assert "What failed: placing the copy order: the broker refused: TradingLocked" in page
    assert "+0 -&gt; +2 (target +2)" in page
    assert 'data-final="true"' in page

    CopyEvent.objects.filter(pk=new.pk).update(finished_at=None)  # being copied now
    live = owner_client.get(reverse("copytrade:copy_log_live", args=[group.pk]))
    assert live["Cache-Control"] == "no-store"
    assert 'data-final="false"' in live.content.decode()


def test_the_copy_log_is_paginated(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount]
) -> None:
    for n in range(27):
        CopyEvent.objects.create(
            group=group,
            leader_fill=FillFactory.create(subaccount=accounts[0]),
            symbol="MNQZ6",
            leader_position=n,
            finished_at=timezone.now(),
        )
    url = reverse("copytrade:copy_log", args=[group.pk])
    first = owner_client.get(url).content.decode()
    assert first.count('class="card block copy-event"') == 25 and "Page 1 of 2" in first
    second = owner_client.get(url, {"page": 2}).content.decode()
    assert second.count('class="card block copy-event"') == 2
    assert "?page=2" in second  # the live part re-reads the page it shows


def test_billing_shows_the_followers_used_against_the_plans_limit(
    owner_client: Client, group: CopyGroup, accounts: list[Subaccount], plan: Plan
) -> None:
    Plan.objects.filter(pk=plan.pk).update(max_followers=5)
    follower_add(group=group, subaccount=accounts[1])
    follower_add(group=group, subaccount=accounts[2])
    page = owner_client.get(reverse("billing:overview")).content.decode()
    row = page[page.index("Copy-trading followers") :].split("</tr>")[0]
    assert '<td class="num">2</td>' in row and '<td class="num">5</td>' in row


# --- another tenant -------------------------------------------------------------------------

COPY_URLS = [
    ("copytrade:group_detail", "group", "get"),
    ("copytrade:group_live", "group", "get"),
    ("copytrade:group_toggle", "group", "post"),
    ("copytrade:follower_add", "group", "post"),
    ("copytrade:copy_log", "group", "get"),
    ("copytrade:copy_log_live", "group", "get"),
    ("copytrade:follower_edit", "follower", "get"),
    ("copytrade:follower_edit", "follower", "post"),
    ("copytrade:follower_remove", "follower", "post"),
    ("copytrade:follower_resync", "follower", "post"),
    ("copytrade:follower_rearm", "follower", "post"),
]


@pytest.mark.parametrize(("name", "kind", "method"), COPY_URLS)
def test_another_tenant_gets_404_on_every_copy_url_and_changes_nothing(
    name: str,
    kind: str,
    method: str,
    group: CopyGroup,
    accounts: list[Subaccount],
    other_client: Client,
    other_user: User,
) -> None:
    follower = follower_add(group=group, subaccount=accounts[1]).follower
    Follower.objects.filter(pk=follower.pk).update(sync_state=Follower.SyncState.DISARMED)
    theirs = _accounts(other_user, "THEIRS")[0]
    pk = group.pk if kind == "group" else follower.pk
    data = {"enabled": "off", "ratio": "5", **_follower_post(theirs)}
    response = getattr(other_client, method)(reverse(name, args=[pk]), data)
    assert response.status_code == 404
    follower.refresh_from_db()
    assert (follower.ratio, follower.sync_state) == (Decimal(1), Follower.SyncState.DISARMED)
    assert CopyGroup.objects.get().enabled is True
    assert list(Follower.objects.all()) == [follower]
