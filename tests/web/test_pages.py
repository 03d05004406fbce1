"""Sign-in, the manager and finance pages, the contract and link pages, keyboard, phone width,
and the weight of the first load (DESIGN §9)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.web.conftest import DIST, FIGURES, Browsing
from tests.web.ui import create_ticket, open_ticket

DEMO_USERS = ("fabrice", "gina", "lea", "louis", "marie", "marc", "sophie", "maxime", "fanny")
MONTHS = (
    "Janvier",
    "Février",
    "Mars",
    "Avril",
    "Mai",
    "Juin",
    "Juillet",
    "Août",
    "Septembre",
    "Octobre",
    "Novembre",
    "Décembre",
)
FIRST_LOAD_BUDGET_BYTES = 250_000


def previous_month_label() -> str:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{MONTHS[month - 1]} {year}"


def test_login_lists_demo_users_and_accepts_a_pasted_token(
    web: Browsing, tokens: dict[str, str]
) -> None:
    page = web.page()
    web.goto(page, "/tickets")
    expect(page).to_have_url(re.compile(r"/app/login$"))
    for user in DEMO_USERS:
        expect(page.get_by_role("button", name=f"en tant que {user} ")).to_have_count(1)
    assert web.axe(page, "login") == []
    page.get_by_label("Jeton").fill(tokens["L1"])
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.get_by_text("lea (consultant niveau 1)")).to_be_visible()
    expect(page.get_by_role("link", name="File d'attente")).to_be_visible()
    expect(page.get_by_role("link", name="Facturation")).to_have_count(0)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/app/login$"))
    assert page.evaluate("sessionStorage.length") == 0


def test_finance_generates_and_downloads_an_export_and_a_manager_unlocks_it(
    web: Browsing,
) -> None:
    month_label = previous_month_label()
    fanny = web.page("fanny")
    expect(fanny).to_have_url(re.compile(r"/app/billing$"))
    nav = fanny.get_by_role("navigation")
    expect(nav.get_by_role("link")).to_have_text(["Facturation"])
    card = fanny.locator("li.card", has=fanny.get_by_role("heading", name=month_label))
    card.get_by_role("button", name=f"Générer l'export de {month_label}").click()
    expect(fanny.locator(".notice")).to_contain_text(f"Export de {month_label} généré")
    csv_link = card.get_by_role("link", name=re.compile(r"Télécharger .*\.csv$"))
    with fanny.expect_download() as download_info:
        csv_link.click()
    download = download_info.value
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    assert "org_id" in content.splitlines()[0]
    assert web.axe(fanny, "billing (finance)") == []
    web.screenshot(fanny, "billing")

    maxime = web.page("maxime")
    web.goto(maxime, "/billing")
    card = maxime.locator("li.card", has=maxime.get_by_role("heading", name=month_label))
    card.get_by_role("button", name=f"Déverrouiller {month_label}").click()
    dialog = maxime.get_by_role("dialog", name=f"Déverrouiller {month_label}")
    dialog.get_by_label("Motif").fill("Saisie oubliée")
    dialog.get_by_role("button", name="Déverrouiller").click()
    expect(maxime.locator(".notice")).to_contain_text("déverrouillé")
    assert web.axe(maxime, "billing (manager)") == []


def test_manager_pages(web: Browsing) -> None:
    maxime = web.page("maxime")
    web.goto(maxime, "/orgs")
    maxime.get_by_label("Identifiant de l'organisation").fill("acme")
    maxime.get_by_role("button", name="Ouvrir").click()
    expect(maxime.get_by_role("heading", name="Acme Industries")).to_be_visible()
    expect(maxime.get_by_label("Nom", exact=True)).to_have_value("Acme Industries")
    maxime.get_by_label("Jours avant fermeture automatique").fill("5")
    validity = maxime.get_by_label("Validité des chiffrages (jours)")
    expect(validity).to_have_value("30")  # the organisation's value, DESIGN §8's default
    validity.fill("45")
    maxime.get_by_role("button", name="Enregistrer l'organisation").click()
    expect(maxime.locator(".notice")).to_contain_text("acme enregistrée")
    expect(maxime.locator(".card", has_text="Acme Industries")).to_contain_text(
        "chiffrages valables 45 jours"
    )
    assert web.axe(maxime, "orgs") == []

    web.goto(maxime, "/consultants")
    expect(maxime.get_by_role("cell", name="Léa Martin", exact=True)).to_be_visible()
    maxime.get_by_label("Identifiant").fill("nina")
    maxime.get_by_label("Nom").fill("Nina Roux")
    maxime.get_by_label("Courriel").fill("nina@helpdesk.test")
    maxime.get_by_label("Niveau").select_option("2")
    maxime.get_by_role("button", name="Enregistrer le consultant").click()
    expect(maxime.get_by_role("cell", name="Nina Roux", exact=True)).to_be_visible()
    maxime.get_by_role("button", name="Modifier Nina Roux").click()
    expect(maxime.get_by_label("Identifiant")).to_have_value("nina")
    expect(maxime.get_by_label("Rôle")).to_have_value("consultant")
    expect(maxime.get_by_label("Actif")).to_be_checked()
    # Deactivating is kept by the next save (editing never reactivates).
    maxime.get_by_label("Actif").uncheck()
    maxime.get_by_role("button", name="Enregistrer le consultant").click()
    nina = maxime.get_by_role("row", name=re.compile("Nina Roux"))
    expect(nina.get_by_role("cell", name="non", exact=True)).to_be_visible()
    maxime.get_by_role("button", name="Modifier Nina Roux").click()
    expect(maxime.get_by_label("Actif")).not_to_be_checked()
    assert web.axe(maxime, "consultants") == []

    web.goto(maxime, "/quarantine")
    expect(maxime.get_by_role("heading", name="Quarantaine")).to_be_visible()
    expect(
        maxime.get_by_role("table").or_(maxime.get_by_text("Aucun courriel en quarantaine."))
    ).to_be_visible()
    expect(maxime.locator(".notice")).to_have_count(0)
    assert web.axe(maxime, "quarantine") == []

    # Staff name the organisation of a ticket they open.
    number = create_ticket(web, maxime, "Appel reçu de Globex", "incident", org="globex")
    expect(maxime.locator("dl.facts")).to_contain_text("globex")
    gina = web.page("gina")
    open_ticket(web, gina, number)


def test_client_contract_page(web: Browsing) -> None:
    fabrice = web.page("fabrice")
    fabrice.get_by_role("link", name="Contrat").click()
    expect(fabrice.get_by_text("Organisation : acme")).to_be_visible()
    expect(fabrice.get_by_role("heading", name="Niveaux de service")).to_be_visible()
    expect(fabrice.get_by_role("row", name="critique")).to_contain_text("1,00 h ouvrées")
    assert web.axe(fabrice, "contract (client)") == []


def _json(route: Any, status: int, body: Any) -> None:
    content_type = "application/json" if status < 400 else "application/problem+json"
    route.fulfill(status=status, content_type=content_type, body=json.dumps(body))


def test_action_link_page_against_mocked_routes(web: Browsing) -> None:
    """Every state of the page (valid, used, unknown) with the browser's fetch answered here;
    tests/web/test_link_page.py plays a real link of a real quote mail."""
    ticket = {
        "number": 42,
        "title": "Export PDF",
        "status": "awaiting_quote_approval",
        "status_label": "En Attente Validation Chiffrage",
        "quote": {
            "version": 1,
            "amount": "1200.00",
            "days": "3",
            "outcome": "pending",
            "valid_until": "2026-12-30T23:00:00Z",
        },
    }
    posted: list[Any] = []

    def links(route: Any) -> None:
        token = route.request.url.rsplit("/", 1)[-1]
        if token == "unknown":
            _json(route, 404, {"status": 404, "title": "Not Found"})
        elif token == "used":
            _json(route, 410, {"status": 410, "title": "Gone", "state": "used"})
        elif route.request.method == "GET":
            action = "refuse-quote" if token == "refuse" else "approve-quote"
            _json(
                route,
                200,
                {
                    "action": action,
                    "state": "valid",
                    "expires_at": "2026-12-30T10:00:00Z",
                    "ticket": ticket,
                },
            )
        else:
            posted.append(
                (token, route.request.headers.get("authorization"), route.request.post_data_json)
            )
            _json(
                route,
                200,
                {**ticket, "status": "in_realisation", "status_label": "En Cours de Réalisation"},
            )

    page = web.page()
    page.route(re.compile(r".*/links/[^/]+$"), links)
    web.goto(page, "/l/approve")
    expect(page.get_by_text("1 200,00 €")).to_be_visible()
    assert posted == []  # opening the page changes nothing
    assert web.axe(page, "l/<token>") == []
    page.get_by_role("button", name="Valider le chiffrage").click()
    expect(page.get_by_role("status")).to_contain_text("En Cours de Réalisation")
    assert posted == [("approve", None, {})]

    web.goto(page, "/l/refuse")
    page.get_by_label("Motif").fill("Trop cher")
    page.get_by_role("button", name="Refuser le chiffrage").click()
    expect(page.get_by_role("status")).to_contain_text("C'est fait")
    assert posted[-1] == ("refuse", None, {"reason": "Trop cher"})

    web.goto(page, "/l/used")
    expect(page.get_by_role("alert")).to_contain_text("déjà servi")
    web.goto(page, "/l/unknown")
    expect(page.get_by_role("alert")).to_contain_text("inconnu")


def test_quarantine_shows_the_defects_of_a_broken_message(web: Browsing) -> None:
    """A held message whose broken MIME structure was read anyway says so (issue 22)."""
    held = {
        "id": "ab" * 32,
        "received_at": "2026-11-30T08:15:00Z",
        "from": "inconnu@example.org",
        "to": ["support@helpdesk.test"],
        "subject": "Facture illisible",
        "reason": "unknown_sender",
        "detail": None,
        "size": 2048,
        "message_id": "<x1@example.org>",
        "defects": "StartBoundaryNotFoundDefect; salvaged: the preamble",
        "url": "http://localhost/raw",
    }
    plain = {**held, "id": "cd" * 32, "subject": "Sans défaut", "defects": None}
    maxime = web.page("maxime")
    maxime.route(
        re.compile(r".*/mail/quarantine(\?.*)?$"),
        lambda route: _json(route, 200, {"items": [held, plain], "next_cursor": None}),
    )
    web.goto(maxime, "/quarantine")
    row = maxime.get_by_role("row", name=re.compile("Facture illisible"))
    expect(row).to_contain_text("Structure MIME défectueuse, lue quand même")
    expect(row).to_contain_text("StartBoundaryNotFoundDefect; salvaged: the preamble")
    other = maxime.get_by_role("row", name=re.compile("Sans défaut"))
    expect(other).not_to_contain_text("Structure MIME")
    assert web.axe(maxime, "quarantine with defects") == []


def test_keyboard_dialog_focus_and_escape(web: Browsing, api: Any, tokens: dict[str, str]) -> None:
    number = api.post(
        "/tickets",
        tokens["CLIENT_ACME"],
        {"title": "Clavier", "description": "", "type": "assistance"},
    ).json()["number"]
    page = web.page()
    web.goto(page, "/login")
    page.get_by_role("button", name="en tant que louis ").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    open_ticket(web, page, number)
    take = page.get_by_role("button", name="Prendre en charge", exact=True)
    take.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=re.compile("Prendre en charge"))
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    expect(dialog.get_by_label("Consultant")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Priorité")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(take).to_be_focused()


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_phone_width(web: Browsing, api: Any, tokens: dict[str, str]) -> None:
    number = api.post(
        "/tickets",
        tokens["CLIENT_ACME"],
        {
            "title": "Un titre assez long pour voir comment il passe à la ligne sur un téléphone",
            "description": "",
            "type": "evolution",
        },
    ).json()["number"]
    phone = web.page("fabrice", width=375, height=740)
    expect(phone.locator(".ticket-row").first).to_be_visible()
    assert _overflow(phone) <= 0
    open_ticket(web, phone, number)
    assert _overflow(phone) <= 0
    assert web.axe(phone, "tickets/<n> at 375 px (client)") == []
    marie = web.page("marie", width=375, height=740)
    open_ticket(web, marie, number)
    assert _overflow(marie) <= 0
    marie.get_by_role("button", name="Prendre en charge", exact=True).click()
    dialog = marie.get_by_role("dialog")
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert web.axe(marie, "take dialog at 375 px (level 2)") == []
    web.goto(marie, "/tickets/new")
    assert _overflow(marie) <= 0
    assert web.axe(marie, "tickets/new (staff)") == []


def test_first_load_javascript_weight() -> None:
    """The scripts /app/ loads before any page (entry and its preloads), gzip-compressed."""
    index = (DIST / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="/app/([^"]+\.js)"', index)
    scripts += re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/app/([^"]+\.js)"', index)
    assert scripts, index
    total = sum(len(gzip.compress((DIST / name).read_bytes(), 9)) for name in scripts)
    FIGURES["first_load_js_gzip_bytes"] = total
    print(f"first load of /app/: {total / 1000:.1f} kB of JavaScript (gzip), {scripts}")
    assert total <= FIRST_LOAD_BUDGET_BYTES
