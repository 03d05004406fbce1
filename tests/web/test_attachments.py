"""Attachments on the ticket page (DESIGN §11, §9): a client picks a file with the field
`Pièce jointe`, it is uploaded through the presigned POST (the local stack's S3), checked and
listed with a download link; an executable named .png is listed as refused."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import Browsing
from tests.web.ui import create_ticket

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def test_a_client_attaches_a_screenshot_on_the_ticket_page(web: Browsing) -> None:
    client = web.page("fabrice")
    web.goto(client, "/tickets/new")
    create_ticket(web, client, "Capture de l'erreur", "assistance")
    files = client.get_by_role("region", name="Pièces jointes")
    expect(files).to_contain_text("Aucune pièce jointe.")

    field = client.get_by_label("Pièce jointe", exact=True)
    field.set_input_files({"name": "écran.png", "mimeType": "image/png", "buffer": PNG})
    client.get_by_role("button", name="Joindre le fichier").click()
    expect(files.get_by_role("status")).to_contain_text("« écran.png » envoyé.")
    link = files.get_by_role("link", name="écran.png")
    expect(link).to_be_visible()
    expect(files).to_contain_text("disponible")
    assert "response-content-disposition=attachment" in (link.get_attribute("href") or "")

    field.set_input_files({"name": "photo.png", "mimeType": "image/png", "buffer": EXE})
    client.get_by_role("button", name="Joindre le fichier").click()
    expect(files).to_contain_text("photo.png")
    expect(files).to_contain_text("refusée : le contenu ne correspond pas au type du fichier")
    assert web.axe(client, "tickets/<n> with attachments (client)") == []
