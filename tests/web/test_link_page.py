"""The action-link page (`/app/l/<token>`, DESIGN §8 and §9) with the links a real quote mail
carries: the page shows the decision, opening it changes nothing, its button decides as the
requester, and the same link opened again says it was used."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.e2e.support import Api, act, create_ticket
from tests.web.conftest import Browsing

LINK = re.compile(r"/app/l/([A-Za-z0-9_\-]+)")


def quote_mail_links(api: Api, number: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in api.get("/_local/outbox").json()["items"]:
            if mail["subject"].startswith(f"[#{number}] ") and "/app/l/" in mail["body"]:
                return list(dict.fromkeys(LINK.findall(mail["body"])))
        time.sleep(0.2)
    raise AssertionError(f"no quote mail with links for #{number}")


def test_refusing_a_quote_from_the_link_of_its_mail(
    web: Browsing, api: Api, tokens: dict[str, str]
) -> None:
    client, l2 = tokens["CLIENT_ACME"], tokens["L2"]
    number = create_ticket(api, client, "evolution", title="Tableau de bord des ventes")["number"]
    for action, body in (("take", None), ("start", None)):
        assert act(api, l2, number, action, body).status == 200
    reply = act(api, l2, number, "submit-quote", {"amount": "2400.00", "days": "4"})
    assert reply.status == 200, reply.body
    tokens_in_mail = quote_mail_links(api, number)
    actions = {api.get(f"/links/{t}").json()["action"]: t for t in tokens_in_mail}
    assert set(actions) == {"approve-quote", "refuse-quote"}
    version = api.get(f"/tickets/{number}", l2).json()["version"]

    page: Any = web.page()
    web.goto(page, f"/l/{actions['refuse-quote']}")
    expect(page.get_by_text("2 400,00 €")).to_be_visible()
    assert api.get(f"/tickets/{number}", l2).json()["version"] == version  # opening: no change
    page.get_by_label("Motif").fill("Hors budget cette année")
    page.get_by_role("button", name="Refuser le chiffrage").click()
    expect(page.get_by_role("status")).to_contain_text("En Cours")

    ticket = api.get(f"/tickets/{number}", l2).json()
    assert ticket["status"] == "in_progress"
    quote = api.get(f"/tickets/{number}/quotes", l2).json()["items"][-1]
    assert (quote["outcome"], quote["reason"]) == ("refused", "Hors budget cette année")
    history = api.get(f"/tickets/{number}/history", l2).json()["items"]
    assert (history[-1]["action"], history[-1]["details"].get("via")) == ("refuse-quote", "link")

    web.goto(page, f"/l/{actions['refuse-quote']}")
    expect(page.get_by_role("alert")).to_contain_text("déjà servi")
    web.goto(page, f"/l/{actions['approve-quote']}")
    expect(page.get_by_role("alert")).to_contain_text("ne vaut plus")
