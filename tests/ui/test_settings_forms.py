"""The settings forms refuse input that should never reach a broker (issue 9 §3), through the
views with the Django test client:

- every number has bounds the form states; a number too large for its column is a 400 with
  "At most N.", never a 500 (entry size, max contracts: 99999999999);
- contradictory settings are form errors naming both fields, on the strategy and on the trader
  (judged with what the trader inherits);
- legal combinations that block adds are a warning shown on the form, not an error;
- a strategy that lets alerts set the quantity says the most; a symbol allow-list takes known
  roots only.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import StrategyFactory, SubaccountFactory, TraderAccountFactory, TraderFactory
from trading.models import Strategy, Trader, TraderAccount

pytestmark = pytest.mark.django_db

BIG = "99999999999"


@pytest.fixture
def member_client(member: User) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _strategy(**fields: str) -> dict[str, str]:
    return {"name": "NQ open", "visibility": "private", "enabled": "on", **fields}


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _create_strategy(client: Client, **fields: str) -> Any:
    return client.post(reverse("trading:strategy_create"), _strategy(**fields))


# --- bounds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("entry_size", BIG, "At most 1,000."),
        ("add_size", "1001", "At most 1,000."),
        ("break_even_trigger_ticks", BIG, "At most 10,000."),
        ("break_even_offset_ticks", "-" + BIG, "At least -10,000."),
        ("trailing_step_ticks", BIG, "At most 10,000."),
        ("cooldown_seconds", BIG, "At most 604,800."),
        ("max_signals_per_day", BIG, "At most 1,000."),
        ("stop_distance", BIG, "At most 100,000."),
        ("max_daily_loss", BIG, "At most 10,000,000."),
        ("alert_quantity_max", "1001", "At most 1,000."),
        ("alert_quantity_max", "0", "At least 1."),
        ("take_profits-0-qty", "1001", "Take-profit 1 quantity: at most 1,000."),
        ("take_profits-0-distance", BIG, "Take-profit 1 distance: at most 100,000."),
    ],
)
def test_a_number_out_of_bounds_is_a_400_saying_the_bound(
    member_client: Client, field: str, value: str, words: str
) -> None:
    data = _strategy(**{field: value})
    if field.startswith("take_profits"):
        data = {"take_profits-mode": "rows", "take_profits-0-distance": "8", **data}
        data.setdefault("take_profits-0-qty", "1")
    if field == "stop_distance":
        data["stop_unit"] = "ticks"
    response = member_client.post(reverse("trading:strategy_create"), data)
    assert response.status_code == 400
    assert words in _text(response)
    assert not Strategy.objects.exists()


def test_the_form_says_every_bound(member_client: Client) -> None:
    text = _text(member_client.get(reverse("trading:strategy_create")))
    for words in (
        "0 to 1,000.",  # entry size, add size
        "-10,000 to 10,000.",  # break-even offset
        "0 to 604,800.",  # cooldown
        "0 to 10,000,000.",  # max daily loss
        "1 to 1,000.",  # the most an alert may ask for
    ):
        assert words in text
    assert 'max="1000"' in text


def test_huge_numbers_on_the_trader_form_are_a_400_not_a_500(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member)
    response = member_client.post(
        reverse("trading:trader_create"),
        {"name": "T", "strategy": strategy.pk, "entry_size": BIG, "trailing_trigger_ticks": BIG},
    )
    assert response.status_code == 400
    assert _text(response).count("At most") == 2
    assert not Trader.objects.exists()


def test_huge_max_contracts_on_a_trading_account_is_a_400_not_a_500(
    member: User, member_client: Client
) -> None:
    trader = TraderFactory.create(strategy__user=member, user=member)
    subaccount = SubaccountFactory.create(connection__user=member)
    add = member_client.post(
        reverse("trading:trader_account_add", args=[trader.pk]),
        {"subaccount": subaccount.pk, "multiplier": "1", "max_contracts": BIG},
    )
    assert add.status_code == 400 and "At most 1,000." in _text(add)
    assert not TraderAccount.objects.exists()
    account = TraderAccountFactory.create(trader=trader, subaccount=subaccount)
    url = reverse("trading:trader_account_edit", args=[account.pk])
    assert "0 to 1,000." in _text(member_client.get(url))
    edit = member_client.post(url, {"multiplier": BIG, "max_contracts": BIG})
    assert edit.status_code == 400
    assert "At most 1,000." in _text(edit)
    account.refresh_from_db()
    assert account.max_contracts is None


# --- contradictions ----------------------------------------------------------------------------

CONTRADICTIONS = [
    (
        "stop distance, no unit",
        {"stop_distance": "10"},
        ["“Stop distance” is 10 but “Stop unit” is empty: without a unit the stop is dropped."],
    ),
    (
        "stop unit, no distance",
        {"stop_unit": "ticks"},
        ["“Stop unit” is ticks but “Stop distance” is empty"],
    ),
    (
        "take-profit trims over the entry",
        {
            "entry_size": "2",
            "take_profits-mode": "rows",
            "take_profits-0-distance": "8",
            "take_profits-0-qty": "2",
            "take_profits-1-distance": "16",
            "take_profits-1-qty": "1",
        },
        ["The take-profit levels close 3 contracts but “Entry size (contracts)” is 2"],
    ),
    (
        "take-profit percents over 100 together",
        {
            "take_profits-mode": "rows",
            "take_profits-0-distance": "8",
            "take_profits-0-qty": "60",
            "take_profits-0-qty_unit": "percent",
            "take_profits-1-distance": "16",
            "take_profits-1-qty": "60",
            "take_profits-1-qty_unit": "percent",
        },
        ["The take-profit levels close 120 % of the position: more than 100 %."],
    ),
    (
        "a take-profit of 150 %",
        {
            "take_profits-mode": "rows",
            "take_profits-0-distance": "8",
            "take_profits-0-qty": "150",
            "take_profits-0-qty_unit": "percent",
        },
        [
            "Take-profit 1: a quantity of 150 with quantity unit “% of position” is more than "
            "the whole position: at most 100."
        ],
    ),
    (
        "break-even offset at its trigger",
        {"break_even_trigger_ticks": "8", "break_even_offset_ticks": "8"},
        ["“Break-even offset (ticks)” (8) must be below “Break-even trigger (ticks)” (8)"],
    ),
    (
        "break-even offset beyond its trigger",
        {"break_even_trigger_ticks": "4", "break_even_offset_ticks": "9"},
        ["“Break-even offset (ticks)” (9) must be below “Break-even trigger (ticks)” (4)"],
    ),
    (
        "break-even offset without a trigger",
        {"break_even_offset_ticks": "2"},
        ["“Break-even offset (ticks)” is set but “Break-even trigger (ticks)” is empty"],
    ),
    (
        "trailing trigger without a step",
        {"trailing_trigger_ticks": "8"},
        ["“Trailing trigger (ticks)” is set but “Trailing step (ticks)” is empty"],
    ),
    (
        "flatten after the last window, no windows",
        {"flatten_after_cutoff": "True", "time_windows-mode": "none"},
        ["“Flatten after the last window” is on but there are no “Time windows”"],
    ),
    (
        "these levels, every level empty",
        {"take_profits-mode": "rows"},
        [
            "You chose “These levels” but every one is empty: fill one in, or choose “No take-profit”."
        ],
    ),
    (
        "these windows, every window empty",
        {"time_windows-mode": "rows"},
        ["You chose “These windows” but every one is empty"],
    ),
    (
        "alert sets the quantity, no most",
        {"alert_may_set_quantity": "on"},
        [
            "“Most contracts an alert may ask for” is required when “The alert's quantity may "
            "set the size” is on"
        ],
    ),
    (
        "use the alert's quantity, no most",
        {"use_alert_quantity": "True"},
        ["“Most contracts an alert may ask for” is required when “Use the alert's quantity” is on"],
    ),
]


@pytest.mark.parametrize(
    ("fields", "words"), [c[1:] for c in CONTRADICTIONS], ids=[c[0] for c in CONTRADICTIONS]
)
def test_contradictory_strategy_settings_are_errors_naming_both_fields(
    member_client: Client, fields: dict[str, str], words: list[str]
) -> None:
    response = _create_strategy(member_client, **fields)
    assert response.status_code == 400
    text = _text(response)
    for part in words:
        assert part in text
    assert not Strategy.objects.exists()


def test_the_same_settings_made_consistent_are_saved(member: User, member_client: Client) -> None:
    response = _create_strategy(
        member_client,
        entry_size="3",
        stop_distance="10",
        stop_unit="ticks",
        break_even_trigger_ticks="8",
        break_even_offset_ticks="2",
        trailing_trigger_ticks="8",
        trailing_step_ticks="0",
        alert_may_set_quantity="on",
        alert_quantity_max="5",
        flatten_after_cutoff="True",
        **{
            "take_profits-mode": "rows",
            "take_profits-0-distance": "8",
            "take_profits-0-qty": "2",
            "take_profits-1-distance": "16",
            "take_profits-1-qty": "1",
            "time_windows-mode": "rows",
            "time_windows-0-start": "09:30",
            "time_windows-0-end": "15:45",
        },
    )
    assert response.status_code == 302, _text(response)
    strategy = Strategy.objects.get(user=member)
    assert (strategy.alert_quantity_max, strategy.stop_unit) == (5, "ticks")


def test_the_trader_form_judges_what_it_inherits(member: User, member_client: Client) -> None:
    strategy = StrategyFactory.create(user=member, entry_size=1, time_windows=[])
    url = reverse("trading:trader_create")
    flatten = member_client.post(
        url, {"name": "T", "strategy": strategy.pk, "flatten_after_cutoff": "True"}
    )
    assert flatten.status_code == 400
    assert "“Flatten after the last window” is on but there are no “Time windows”" in _text(flatten)
    trims = member_client.post(
        url,
        {
            "name": "T",
            "strategy": strategy.pk,
            "take_profits-mode": "rows",
            "take_profits-0-distance": "8",
            "take_profits-0-qty": "2",
        },
    )
    assert trims.status_code == 400
    assert "close 2 contracts but “Entry size (contracts)” is 1" in _text(trims)
    quantity = member_client.post(
        url, {"name": "T", "strategy": strategy.pk, "use_alert_quantity": "True"}
    )
    assert quantity.status_code == 400
    assert "the strategy “" + strategy.name + "” to say the most contracts" in _text(quantity)
    assert not Trader.objects.exists()
    Strategy.objects.filter(pk=strategy.pk).update(time_windows=[["09:30", "15:45"]])
    fine = member_client.post(
        url, {"name": "T", "strategy": strategy.pk, "flatten_after_cutoff": "True"}
    )
    assert fine.status_code == 302, _text(fine)


# --- warnings ----------------------------------------------------------------------------------


def test_an_add_size_that_is_never_used_is_a_warning_not_an_error(
    member: User, member_client: Client
) -> None:
    response = _create_strategy(member_client, add_size="2", on_same_direction="ignore")
    assert response.status_code == 302  # legal: saved
    strategy = Strategy.objects.get(user=member)
    page = _text(member_client.get(reverse("trading:strategy_edit", args=[strategy.pk])))
    assert (
        "Note: “Add size (contracts)” is set, but signals in the same direction are ignored "
        "(“Signal in the same direction”): the add size is never used." in page
    )
    bad = member_client.post(
        reverse("trading:strategy_edit", args=[strategy.pk]),
        _strategy(add_size="2", on_same_direction="reenter", entry_size=BIG),
    )
    assert bad.status_code == 400
    assert "signals in the same direction close and re-enter" in _text(bad)


def test_add_with_max_contracts_reached_by_the_first_entry_is_a_warning(
    member: User, member_client: Client
) -> None:
    strategy = StrategyFactory.create(user=member, on_same_direction="add", entry_size=1)
    account = TraderAccountFactory.create(
        trader__strategy=strategy,
        trader__user=member,
        subaccount__connection__user=member,
        subaccount__name="DEMO1001",
        max_contracts=1,
    )
    words = "Adds are blocked on DEMO1001: its max contracts (1) is reached by the first entry"
    account_url = reverse("trading:trader_account_edit", args=[account.pk])
    assert words in _text(member_client.get(account_url))
    trader_url = reverse("trading:trader_edit", args=[account.trader_id])
    assert words in _text(member_client.get(trader_url))
    assert words in _text(member_client.get(reverse("trading:strategy_edit", args=[strategy.pk])))
    saved = member_client.post(account_url, {"multiplier": "1", "max_contracts": "1"}, follow=True)
    assert saved.redirect_chain  # a warning never blocks saving
    assert words in _text(saved)  # and it follows the saved form to the next page
    roomy = member_client.post(account_url, {"multiplier": "1", "max_contracts": "3", "x": "1"})
    assert roomy.status_code == 302
    assert words not in _text(member_client.get(account_url))


# --- alert quantity and symbols ----------------------------------------------------------------


def test_the_symbol_allow_list_takes_known_roots(member: User, member_client: Client) -> None:
    unknown = _create_strategy(member_client, symbol_allow_list="NQ, XYZ")
    assert unknown.status_code == 400
    assert "'XYZ' is not a contract root Bracketeer knows" in _text(unknown)
    clash = _create_strategy(member_client, symbol_allow_list="NQ, MNQ", symbol_override="ES1!")
    assert clash.status_code == 400
    assert "“Symbol override” ES1! is ES, which is not in “Trade only these contract roots”" in (
        _text(clash)
    )
    saved = _create_strategy(member_client, symbol_allow_list="nq  mnq,NQ")
    assert saved.status_code == 302
    strategy = Strategy.objects.get(user=member)
    assert strategy.symbol_allow_list == ["NQ", "MNQ"]
    page = _text(member_client.get(reverse("trading:strategy_edit", args=[strategy.pk])))
    assert 'value="NQ, MNQ"' in page
    assert "An alert for another root is rejected with the reason" in page


def test_a_symbol_override_must_be_a_symbol_that_trades(
    member: User, member_client: Client
) -> None:
    response = _create_strategy(member_client, symbol_override="XYZQ1!")
    assert response.status_code == 400
    assert "'XYZQ1!' is not a symbol Bracketeer can trade: Unknown contract root 'XYZQ'" in (
        _text(response)
    )
    strategy = StrategyFactory.create(user=member, symbol_allow_list=["NQ"])
    trader = member_client.post(
        reverse("trading:trader_create"),
        {"name": "T", "strategy": strategy.pk, "symbol_override": "MES1!"},
    )
    assert trader.status_code == 400
    assert "“Symbol override” MES1! is MES; the strategy" in _text(trader)


def test_a_warning_follows_the_saved_form_to_the_next_page(
    member: User, member_client: Client
) -> None:
    response = member_client.post(
        reverse("trading:strategy_create"),
        _strategy(add_size="2", on_same_direction="ignore"),
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain and "/edit" not in response.redirect_chain[-1][0]
    assert "the add size is never used" in _text(response)
