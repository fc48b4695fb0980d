"""D21 — the UI sent `avg_down_enabled` while the backend read `dca_enabled`: the toggle did
nothing and nobody noticed.

Invariant: one field name from model to form to API; the UI toggle changes behaviour. Proved
in a real browser: ``on_same_direction`` set to "ignore" in the strategy form makes the next
same-direction alert do nothing ("already long"); switched to "add" in the browser, the next
alert grows the position at the simulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.browser import log_in
from tests.ui.sim_setup import execute_shown_signal, net_position, ui_account
from trading.forms import SETTING_NAMES, StrategyForm, TraderForm
from trading.models import SettingsFields, Strategy, TraderAccount
from trading.settings_resolution import SettingsLayer

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["ui_account"]


def test_every_model_setting_is_a_form_field_of_the_same_name() -> None:
    from tests.factories import UserFactory

    model_fields = {f.name for f in SettingsFields._meta.get_fields()}
    assert set(SETTING_NAMES) <= model_fields
    user = UserFactory.build()
    for form in (
        StrategyForm(user=user),
        TraderForm(user=user, strategies=Strategy.objects.none()),
    ):
        assert set(SETTING_NAMES) <= set(form.fields)
    # The engine's layer speaks the same names (stop_distance/stop_unit make its `stop`).
    layer = set(SettingsLayer.__dataclass_fields__)
    assert "on_same_direction" in layer
    assert {n for n in SETTING_NAMES if not n.startswith(("stop_", "break_even", "trailing"))} - {
        "flatten_after_cutoff",
        "symbol_override",
    } <= layer


def _set_same_direction(page: Any, strategy: Strategy, value: str) -> None:
    page.goto(f"/trading/strategies/{strategy.pk}/edit/")
    page.get_by_label("Signal in the same direction").select_option(value)
    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(f"**/trading/strategies/{strategy.pk}/")


def _send_test_buy(page: Any, strategy: Strategy) -> Any:
    page.goto(f"/trading/strategies/{strategy.pk}/")
    page.get_by_label("Action").select_option("buy")
    page.get_by_role("button", name="Send test alert").click()
    page.wait_for_url("**/trading/signals/*/")
    return execute_shown_signal(page)


@pytest.mark.browser
def test_toggling_on_same_direction_in_the_browser_changes_the_next_alert(
    page: Any, ui_account: TraderAccount, sim: Any
) -> None:
    strategy = ui_account.trader.strategy
    log_in(page, strategy.user.email)
    _send_test_buy(page, strategy)
    assert net_position(sim) == 1

    _set_same_direction(page, strategy, "ignore")
    strategy.refresh_from_db()
    assert strategy.on_same_direction == "ignore"
    signal = _send_test_buy(page, strategy)
    (outcome,) = signal.outcomes.all()
    assert outcome.decision == "ignored"
    assert "already long" in outcome.reason
    assert page.locator(".outcome .decision-text").inner_text() == "ignored"
    assert "already long" in page.locator(".outcome .reason").inner_text()
    assert net_position(sim) == 1

    _set_same_direction(page, strategy, "add")
    signal = _send_test_buy(page, strategy)
    (outcome,) = signal.outcomes.all()
    assert outcome.decision == "add", outcome.reason
    assert (outcome.position_before, outcome.position_after) == (1, 2)
    assert net_position(sim) == 2
    assert page.locator(".outcome .decision-text").inner_text() == "add"
