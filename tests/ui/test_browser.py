"""The trading UI in a real Chromium: strategies, traders, the signal log."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import User
from tests.factories import StrategyFactory, SubaccountFactory
from tests.ui.browser import log_in, settings_of
from trading.forms import SETTING_NAMES
from trading.models import Strategy, Trader, TraderAccount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

HEAD = ("name", "visibility", "enabled", "alert_may_set_quantity", "alert_may_set_stop")


def _fill_every_setting(page: Any, values: dict[str, str]) -> None:
    labels = {
        "entry_size": "Entry size (contracts)",
        "add_size": "Add size (contracts)",
        "stop_distance": "Stop distance",
        "break_even_trigger_ticks": "Break-even trigger (ticks)",
        "break_even_offset_ticks": "Break-even offset (ticks)",
        "trailing_trigger_ticks": "Trailing trigger (ticks)",
        "trailing_step_ticks": "Trailing step (ticks)",
        "cooldown_seconds": "Cooldown (seconds)",
        "max_signals_per_day": "Max signals per day",
        "max_daily_loss": "Max daily loss ($)",
        "symbol_override": "Symbol override",
    }
    selects = {
        "use_alert_quantity": "Use the alert's quantity",
        "stop_unit": "Stop unit",
        "on_same_direction": "Signal in the same direction",
        "on_opposite_direction": "Signal in the opposite direction",
        "invert_signals": "Invert signals",
        "direction_filter": "Direction",
        "flatten_after_cutoff": "Flatten after the last window",
    }
    for name, label in labels.items():
        page.get_by_label(label, exact=True).fill(values[name])
    for name, label in selects.items():
        page.get_by_label(label, exact=True).select_option(values[name])


def test_create_a_strategy_and_edit_every_setting_round_trip(page: Any, member: User) -> None:
    log_in(page, member.email)
    page.get_by_role("link", name="Strategies").click()
    page.get_by_role("link", name="New strategy").click()
    page.get_by_label("Name", exact=True).fill("MNQ open")
    _fill_every_setting(
        page,
        {
            "entry_size": "2",
            "add_size": "0",
            "stop_distance": "12.5",
            "break_even_trigger_ticks": "8",
            "break_even_offset_ticks": "-1",
            "trailing_trigger_ticks": "0",
            "trailing_step_ticks": "4",
            "cooldown_seconds": "0",
            "max_signals_per_day": "5",
            "max_daily_loss": "0",
            "symbol_override": "MNQZ2026",
            "use_alert_quantity": "False",
            "stop_unit": "ticks",
            "on_same_direction": "add",
            "on_opposite_direction": "close",
            "invert_signals": "True",
            "direction_filter": "long_only",
            "flatten_after_cutoff": "False",
        },
    )
    page.get_by_label("Take-profit levels").select_option("rows")
    page.get_by_label("Take-profit 1 distance").fill("8")
    page.get_by_label("Take-profit 1 quantity", exact=True).fill("50")
    page.get_by_label("Take-profit 1 quantity unit").select_option("percent")
    page.get_by_label("Take-profit 2 distance").fill("0.5")
    page.get_by_label("Take-profit 2 unit").select_option("percent")
    page.get_by_label("Take-profit 2 quantity", exact=True).fill("1")
    page.get_by_label("Trade only inside").select_option("rows")
    page.get_by_label("Time window 1 from").fill("09:30")
    page.get_by_label("Time window 1 to").fill("11:30")
    page.get_by_label("Time window 2 from").fill("22:00")
    page.get_by_label("Time window 2 to").fill("02:00")
    page.get_by_label("The alert's stop price may set the stop").check()
    page.get_by_role("button", name="Create strategy").click()
    page.wait_for_url(re.compile(r"/trading/strategies/\d+/$"))
    assert page.locator(".error").all_inner_texts() == []
    strategy = Strategy.objects.get(user=member)
    created = settings_of(strategy, SETTING_NAMES)
    assert created == {
        "entry_size": 2,
        "add_size": 0,
        "use_alert_quantity": False,
        "take_profits": [
            {"distance": "8", "unit": "ticks", "qty": "50", "qty_unit": "percent"},
            {"distance": "0.5", "unit": "percent", "qty": "1", "qty_unit": "contracts"},
        ],
        "stop_distance": Decimal("12.5"),
        "stop_unit": "ticks",
        "break_even_trigger_ticks": 8,
        "break_even_offset_ticks": -1,
        "trailing_trigger_ticks": 0,
        "trailing_step_ticks": 4,
        "on_same_direction": "add",
        "on_opposite_direction": "close",
        "invert_signals": True,
        "direction_filter": "long_only",
        "time_windows": [["09:30", "11:30"], ["22:00", "02:00"]],
        "flatten_after_cutoff": False,
        "cooldown_seconds": 0,
        "max_signals_per_day": 5,
        "max_daily_loss": Decimal("0"),
        "symbol_override": "MNQZ2026",
    }
    assert strategy.alert_may_set_stop is True
    # The webhook URL and the alert JSON are on the page, ready to copy.
    assert (
        page.locator("#webhook-url")
        .inner_text()
        .endswith(f"/webhooks/tradingview/{strategy.webhook_token}/")
    )
    assert json.loads(page.locator("#alert-strategy").inner_text())["market_position"] == (
        "{{strategy.market_position}}"
    )

    # D06: saving the untouched form changes nothing.
    before = settings_of(strategy, SETTING_NAMES + HEAD)
    page.get_by_role("link", name="Edit settings").click()
    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(f"**/trading/strategies/{strategy.pk}/")
    assert settings_of(strategy, SETTING_NAMES + HEAD) == before

    # Every setting back to its default: null, never 0; the take-profits say "none" ([]).
    page.get_by_role("link", name="Edit settings").click()
    _fill_every_setting(page, dict.fromkeys(SETTING_NAMES, ""))
    for n in (1, 2):
        page.get_by_label(f"Take-profit {n} distance").fill("")
        page.get_by_label(f"Take-profit {n} quantity", exact=True).fill("")
        page.get_by_label(f"Time window {n} from").fill("")
        page.get_by_label(f"Time window {n} to").fill("")
    page.get_by_label("Take-profit levels").select_option("none")
    page.get_by_label("Trade only inside").select_option("")
    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(f"**/trading/strategies/{strategy.pk}/")
    cleared = settings_of(strategy, SETTING_NAMES)
    assert cleared == {**dict.fromkeys(SETTING_NAMES), "take_profits": []}

    # And that round-trips too.
    page.get_by_role("link", name="Edit settings").click()
    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(f"**/trading/strategies/{strategy.pk}/")
    assert settings_of(strategy, SETTING_NAMES) == cleared


def test_create_a_trader_with_an_account(page: Any, member: User) -> None:
    strategy = StrategyFactory.create(user=member, name="ES trend", entry_size=3)
    sub = SubaccountFactory.create(connection__user=member, name="DEMO7001")
    SubaccountFactory.create(name="FOREIGN1")  # someone else's: never offered
    log_in(page, member.email)
    page.get_by_role("link", name="Traders").click()
    page.get_by_role("link", name="New trader").click()
    page.get_by_label("Name", exact=True).fill("ES on demo")
    page.get_by_label("Strategy", exact=True).select_option(label="ES trend")
    page.get_by_label("Add size (contracts)").fill("0")
    page.get_by_role("button", name="Create trader").click()
    page.wait_for_url(re.compile(r"/trading/traders/\d+/$"))
    trader = Trader.objects.get(user=member)
    assert (trader.strategy, trader.entry_size, trader.add_size) == (strategy, None, 0)
    options = page.get_by_label("Trading account").locator("option").all_inner_texts()
    assert [o.split(" (")[0] for o in options] == ["DEMO7001"]
    page.get_by_label("Multiplier").fill("2")
    page.get_by_role("button", name="Add account").click()
    page.wait_for_url(f"**/trading/traders/{trader.pk}/")
    row = page.locator("#trader-accounts tbody tr")
    assert row.count() == 1
    assert "no cap" in row.inner_text()
    account = TraderAccount.objects.get(trader=trader)
    assert (account.subaccount, account.multiplier, account.max_contracts, account.enabled) == (
        sub,
        Decimal(2),
        None,
        True,
    )
    # The edit form shows the inherited value where the trader does not override.
    page.get_by_role("link", name="Edit settings").click()
    assert page.get_by_label("Entry size (contracts)").get_attribute("placeholder") == (
        "Inherit (3)"
    )
    assert page.get_by_label("Add size (contracts)").input_value() == "0"
