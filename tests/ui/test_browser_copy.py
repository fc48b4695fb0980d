"""The copy group's page in a real Chromium on a real uvicorn: a follower's sync state is
shown and follows a live frame without a reload, and the Disable switch survives a reload
(D31: it lives in the database)."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from copytrade.models import CopyGroup, Follower
from copytrade.services import copy_group_create, follower_add
from tests.factories import PositionFactory, SubaccountFactory
from tests.ui.test_browser_live import _wait_live, open_page, publish, web

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

__all__ = ["open_page", "web"]


def test_the_group_page_shows_sync_states_live_and_disable_persists_after_reload(
    open_page: Any, member: User
) -> None:
    leader = SubaccountFactory.create(connection__user=member, name="DEMO1001")
    account = SubaccountFactory.create(connection=leader.connection, name="DEMO1002")
    group = copy_group_create(user=member, name="Paper copy", leader=leader)
    follower = follower_add(group=group, subaccount=account).follower
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.DRIFTED, sync_reason="holds +1, target +2"
    )
    tab = open_page(member)
    tab.goto(f"/copy/{group.pk}/")
    row = tab.locator(f"#follower-{follower.pk}")
    assert "Drifted holds +1, target +2" in row.locator(".sync").inner_text()
    assert row.get_by_role("button", name="Resync DEMO1002").is_visible()
    _wait_live(tab)
    tab.evaluate("() => { window.notReloaded = true; }")

    # The follower is brought to target; its position frame makes the part re-read itself.
    Follower.objects.filter(pk=follower.pk).update(
        sync_state=Follower.SyncState.IN_SYNC, sync_reason=""
    )
    position = PositionFactory.create(subaccount=account, net_pos=2)
    publish(user_id=member.pk, position_pks=[position.pk])
    tab.wait_for_function(
        "id => document.querySelector('#follower-' + id)?.dataset.sync === 'in_sync'",
        arg=follower.pk,
        timeout=2000,
    )
    assert tab.evaluate("() => window.notReloaded") is True

    tab.get_by_role("button", name="Disable copying").click()
    tab.wait_for_selector("#group-enabled:has-text('copying off')")
    assert CopyGroup.objects.get(pk=group.pk).enabled is False
    tab.reload()
    assert tab.locator("#group-enabled").inner_text() == "copying off"
    assert tab.get_by_role("button", name="Enable copying").is_visible()
    tab.goto("/copy/")
    assert tab.locator(f"#group-{group.pk}").get_attribute("data-enabled") == "false"
