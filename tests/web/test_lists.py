"""The ticket list's filters done by the API (DESIGN §7, §9): search and `Mes tickets`."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import Browsing


def _ticket(api: Any, tokens: dict[str, str], title: str) -> int:
    created = api.post(
        "/tickets", tokens["CLIENT_ACME"], {"title": title, "description": "", "type": "assistance"}
    )
    assert created.status == 201, created.body
    return int(created.json()["number"])


def _act(api: Any, token: str, number: int, action: str, body: dict[str, Any]) -> None:
    done = api.post(f"/tickets/{number}/actions/{action}", token, body)
    assert done.status == 200, (action, done.body)


def test_search_finds_a_ticket_by_a_word_of_its_title(
    web: Browsing, api: Any, tokens: dict[str, str]
) -> None:
    word = "Zorglub" + uuid.uuid4().hex[:6]
    number = _ticket(api, tokens, f"Imprimante {word} en panne")
    _ticket(api, tokens, "Imprimante du deuxième étage en panne")
    lea = web.page("lea")
    web.goto(lea, "/tickets")
    expect(lea.locator(".ticket-row").first).to_be_visible()
    lea.get_by_label("Rechercher").fill(word.lower())
    lea.keyboard.press("Enter")
    expect(lea).to_have_url(re.compile(rf"q={word.lower()}"))
    expect(lea.locator(".ticket-row")).to_have_count(1)
    expect(lea.get_by_role("link", name=f"#{number} Imprimante {word} en panne")).to_be_visible()
    expect(lea.get_by_text("Filtré dans le navigateur")).to_have_count(0)
    lea.get_by_label("Tri").select_option("number")
    expect(lea).to_have_url(re.compile(r"sort=number"))
    expect(lea.locator(".ticket-row")).to_have_count(1)
    assert web.axe(lea, "tickets?q=<word> (level 1)") == []


def test_my_tickets_lists_only_the_consultants_active_tickets(
    web: Browsing, api: Any, tokens: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    mine = _ticket(api, tokens, f"Mien actif {tag}")
    done = _ticket(api, tokens, f"Mien fermé {tag}")
    other = _ticket(api, tokens, f"Pris par Léa {tag}")
    louis, lea = tokens["L1B"], tokens["L1"]
    _act(api, louis, mine, "take", {"assignee": "louis"})
    _act(api, louis, done, "take", {"assignee": "louis"})
    _act(api, louis, done, "start", {})
    _act(api, louis, done, "send-answer", {"message": "Fait."})
    _act(api, louis, done, "close", {"note": "Confirmé par téléphone."})
    _act(api, lea, other, "take", {"assignee": "lea"})

    page = web.page("louis")
    page.get_by_role("link", name="Mes tickets").click()
    expect(page.get_by_role("heading", name="Mes tickets")).to_be_visible()
    expect(page.get_by_role("link", name=f"#{mine} Mien actif {tag}")).to_be_visible()
    expect(page.get_by_role("link", name=f"#{done} Mien fermé {tag}")).to_have_count(0)
    expect(page.get_by_role("link", name=f"#{other} Pris par Léa {tag}")).to_have_count(0)
    rows = page.locator(".ticket-row")
    for i in range(rows.count()):
        expect(rows.nth(i)).to_contain_text("assigné à louis")
        expect(rows.nth(i).locator(".badge")).not_to_have_class(re.compile("status-closed"))
    assert web.axe(page, "tickets?view=mine (level 1)") == []


def test_edit_title_description_priority_with_if_match(
    web: Browsing, api: Any, tokens: dict[str, str]
) -> None:
    number = _ticket(api, tokens, "Titre à corriger")
    client = web.page("fabrice")
    web.goto(client, f"/tickets/{number}")
    client.get_by_role("button", name="Modifier", exact=True).click()
    dialog = client.get_by_role("dialog")
    expect(dialog.get_by_label("Priorité")).to_have_count(0)  # a client does not set it
    dialog.get_by_label("Titre").fill("Titre corrigé")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(dialog).to_be_hidden()
    expect(client.get_by_role("heading", level=1)).to_contain_text("Titre corrigé")

    lea = web.page("lea")
    web.goto(lea, f"/tickets/{number}")
    expect(lea.get_by_role("heading", level=1)).to_contain_text("Titre corrigé")
    # Someone changes the ticket meanwhile: the stale If-Match gives the French message.
    edited = api.request(
        "PATCH", f"/tickets/{number}", tokens["L1B"], {"description": "Ajout de Louis"}
    )
    assert edited.status == 200, edited.body
    lea.get_by_role("button", name="Modifier", exact=True).click()
    dialog = lea.get_by_role("dialog")
    dialog.get_by_label("Priorité").select_option("high")
    assert web.axe(lea, "edit dialog (level 1)") == []
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(lea.locator(".notice")).to_contain_text("modifié entre-temps")
    expect(lea.locator(".pre").first).to_contain_text("Ajout de Louis")
    lea.get_by_role("button", name="Modifier", exact=True).click()
    lea.get_by_role("dialog").get_by_label("Priorité").select_option("high")
    lea.get_by_role("dialog").get_by_role("button", name="Enregistrer").click()
    expect(lea.locator(".notice")).to_contain_text("Ticket modifié")
    expect(lea.locator("dl.facts")).to_contain_text("haute")
