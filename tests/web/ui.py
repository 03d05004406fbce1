"""Steps the browser tests share: create a ticket, perform an action, read the status."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import Browsing


def create_ticket(
    web: Browsing, page: Any, title: str, ticket_type: str, org: str | None = None
) -> int:
    web.goto(page, "/tickets/new")
    page.get_by_label("Titre").fill(title)
    page.get_by_label("Description").fill(f"{title} : détails.")
    page.get_by_label("Type").select_option(ticket_type)
    if org is not None:
        field = page.get_by_label("Organisation")
        # A select filled from GET /orgs (a text field only if the list cannot be read).
        expect(field.locator(f'option[value="{org}"]')).to_be_attached()
        field.select_option(org)
    page.get_by_role("button", name="Créer le ticket").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    match = re.search(r"/tickets/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def open_ticket(web: Browsing, page: Any, number: int) -> None:
    web.goto(page, f"/tickets/{number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{number}")


def status_of(page: Any) -> Any:
    return page.locator("dl.facts dd .badge").first


def act(page: Any, name: str, fields: dict[str, str] | None = None) -> None:
    """Clicks the action's button; fills its dialog (labels -> values) and submits it."""
    page.get_by_role("button", name=name, exact=True).click()
    if fields is not None:
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        for label, value in fields.items():
            control = dialog.get_by_label(label, exact=True)
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        dialog.get_by_role("button", name=name, exact=True).click()
        expect(dialog).to_be_hidden()
    expect(page.locator(".notice")).to_contain_text(f"{name} : fait")


def expect_status(page: Any, label: str) -> None:
    expect(status_of(page)).to_have_text(label)


def expect_actions(page: Any, *names: str) -> None:
    section = page.locator("section", has=page.get_by_role("heading", name="Actions"))
    buttons = section.get_by_role("button")
    expect(buttons).to_have_text(list(names))
