"""Helpers shared by the trading UI's browser tests."""

from __future__ import annotations

from typing import Any

from tests.factories import TEST_PASSWORD


def log_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def settings_of(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    obj.refresh_from_db()
    return {name: getattr(obj, name) for name in names}
