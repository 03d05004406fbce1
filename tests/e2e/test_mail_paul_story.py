"""Paul's whole story by mail and action links only (DESIGN.md §8): he never uses the API.

A new ticket by SMTP, a quote refused by link with a reason, a new quote approved by link, an
answer, a reopen by link, a second answer, a confirmation by link. Every mail each person
received is checked: recipients, subject, threading headers, the French text's key facts, and
that no mail states something false (that Paul did not answer, an API path, an HTTP verb).
"""

from __future__ import annotations

import re
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.support import Api, StackProcess, act

pytestmark = pytest.mark.e2e

PAUL = "paul@acme.test"
PAUL_MESSAGE_ID = "<paul-export-1@acme.test>"
L1_ADDRESSES = {"lea@helpdesk.test", "louis@helpdesk.test"}
MARIE = "marie@helpdesk.test"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/app/l/([A-Za-z0-9_\-]+)")
FALSE_CLAIMS = ("sans réponse", "sans retour de votre part", "n'avez pas répondu")
API_TALK = ("POST ", "GET ", "PATCH ", "/actions/", "/tickets/")


def send(stack: StackProcess, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message)


def outbox(api: Api, number: int) -> list[dict[str, Any]]:
    items = api.get("/_local/outbox").json()["items"]
    return [m for m in items if m["subject"].startswith(f"[#{number}] ")]


class Mailbox:
    """The ticket's mails, read in the order they were sent; `new()` waits for the next ones."""

    def __init__(self, api: Api, number: int) -> None:
        self.api = api
        self.number = number
        self.seen = 0

    def new(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            mails = outbox(self.api, self.number)
            if len(mails) >= self.seen + count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # nothing more than expected may follow
        mails = outbox(self.api, self.number)
        fresh = mails[self.seen :]
        self.seen = len(mails)
        assert len(fresh) == count, [(m["to"], m["subject"]) for m in fresh]
        return fresh


def by_recipient(mails: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["to"]: m for m in mails}


def assert_threaded(mail: dict[str, Any]) -> None:
    assert mail["in_reply_to"] == PAUL_MESSAGE_ID, mail["subject"]
    assert PAUL_MESSAGE_ID in mail["references"], mail["subject"]


def assert_true_and_french(mail: dict[str, Any]) -> None:
    for text in (mail["body"], mail["html"]):
        for phrase in FALSE_CLAIMS:
            assert phrase.lower() not in text.lower(), (phrase, mail["subject"])
        if mail["to"] == PAUL:  # staff mails link to the ticket's page, /app/tickets/<n>
            for phrase in API_TALK:
                assert phrase not in text, (phrase, mail["subject"])
        assert "{{" not in text
    assert mail["html"].strip(), mail["subject"]


def links_of(api: Api, mail: dict[str, Any]) -> dict[str, str]:
    """action -> token, each link opened (a GET changes nothing) to learn its action."""
    found: dict[str, str] = {}
    for _base, token in dict.fromkeys(LINK.findall(mail["body"])):
        reply = api.get(f"/links/{token}")
        assert reply.status == 200, reply.body
        assert reply.json()["state"] == "valid"
        found[reply.json()["action"]] = token
    return found


def ticket_as_staff(api: Api, token: str, number: int) -> dict[str, Any]:
    reply = api.get(f"/tickets/{number}", token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def test_paul_decides_everything_from_his_mailbox(
    stack: StackProcess, api: Api, tokens: dict[str, str]
) -> None:
    lea, marie = tokens["L1"], tokens["L2"]

    first = EmailMessage()
    first["From"] = f"Paul Girard <{PAUL}>"
    first["To"] = "support@helpdesk.localhost"
    first["Subject"] = "Nouvel export comptable mensuel"
    first["Message-ID"] = PAUL_MESSAGE_ID
    first.set_content("Nous voudrions un export mensuel des écritures au format CSV.")
    send(stack, first)

    def created() -> int | None:
        listed = api.get("/tickets?limit=100&q=export", lea).json()["items"]
        mine = [t for t in listed if t["title"] == "Nouvel export comptable mensuel"]
        return mine[0]["number"] if mine else None

    deadline = time.monotonic() + 20
    while (number := created()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert number is not None
    box = Mailbox(api, number)

    # Created: the acknowledgement to Paul, and the level-1 consultants are told.
    mails = box.new(2)
    ack = next(m for m in mails if m["to"] == PAUL)
    assert_threaded(ack)
    assert_true_and_french(ack)
    assert f"#{number}" in ack["body"]
    staff = next(m for m in mails if m["to"] != PAUL)
    assert {a.strip() for a in staff["to"].split(",")} == L1_ADDRESSES
    assert f"/app/tickets/{number}" in staff["body"]

    # Léa qualifies it as an evolution for Marie (level 2): Paul is told who, Marie is told.
    reply = act(
        api, lea, number, "take", {"type": "evolution", "assignee": "marie", "priority": "high"}
    )
    assert reply.status == 200, reply.body
    told = by_recipient(box.new(2))
    assert set(told) == {PAUL, MARIE}
    assert "Marie Durand" in told[PAUL]["body"]
    assert "haute" in told[PAUL]["body"] and "high" not in told[PAUL]["body"]
    assert f"/app/tickets/{number}" in told[MARIE]["body"]
    for mail in told.values():
        assert_threaded(mail)

    reply = act(api, marie, number, "start")
    assert reply.status == 200, reply.body

    # Quote 1, refused by link with a reason.
    reply = act(api, marie, number, "submit-quote", {"amount": "1200.00", "days": "2"})
    assert reply.status == 200, reply.body
    (quote_mail,) = box.new(1)
    assert quote_mail["to"] == PAUL
    assert "1 200,00 €" in quote_mail["body"]
    assert_threaded(quote_mail)
    assert_true_and_french(quote_mail)
    quote = api.get(f"/tickets/{number}/quotes", marie).json()["items"][-1]
    assert quote["valid_until"]
    links = links_of(api, quote_mail)
    assert set(links) == {"approve-quote", "refuse-quote"}
    version_before = ticket_as_staff(api, marie, number)["version"]

    reply = api.post(f"/links/{links['refuse-quote']}", None, {})
    assert reply.status == 422, reply.body  # a refusal needs its reason
    reply = api.post(f"/links/{links['refuse-quote']}", None, {"reason": "Trop cher pour nous"})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "in_progress"
    assert ticket_as_staff(api, marie, number)["version"] == version_before + 1
    history = api.get(f"/tickets/{number}/history", marie).json()["items"]
    assert history[-1]["action"] == "refuse-quote"
    assert history[-1]["details"].get("via") == "link"
    told = by_recipient(box.new(2))
    assert set(told) == {PAUL, MARIE}
    assert "Trop cher pour nous" in told[MARIE]["body"]
    for mail in told.values():
        assert_threaded(mail)
        assert_true_and_french(mail)
    reused = api.post(f"/links/{links['refuse-quote']}", None, {"reason": "encore"})
    assert (reused.status, reused.json()["state"]) == (410, "used")
    stale = api.get(f"/links/{links['approve-quote']}")
    assert (stale.status, stale.json()["state"]) == (410, "superseded")

    # Quote 2, approved by link.
    reply = act(api, marie, number, "submit-quote", {"amount": "1000.00", "days": "2"})
    assert reply.status == 200, reply.body
    (quote_mail,) = box.new(1)
    assert "1 000,00 €" in quote_mail["body"]
    links = links_of(api, quote_mail)
    reply = api.post(f"/links/{links['approve-quote']}", None, {})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "in_realisation"
    told = by_recipient(box.new(2))
    assert set(told) == {PAUL, MARIE}
    for mail in told.values():
        assert_threaded(mail)
        assert_true_and_french(mail)

    # The answer, reopened by link with a reason.
    reply = act(api, marie, number, "send-answer", {"message": "L'export est livré en recette."})
    assert reply.status == 200, reply.body
    (answer,) = box.new(1)
    assert answer["to"] == PAUL
    assert "L'export est livré en recette." in answer["body"]
    assert_threaded(answer)
    assert_true_and_french(answer)
    links = links_of(api, answer)
    assert set(links) == {"confirm", "reopen"}
    reply = api.post(f"/links/{links['reopen']}", None, {"reason": "Il manque la colonne TVA"})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "in_realisation"
    told = by_recipient(box.new(2))
    assert set(told) == {PAUL, MARIE}
    assert "Il manque la colonne TVA" in told[MARIE]["body"]
    old_confirm = api.post(f"/links/{links['confirm']}", None, {})
    assert (old_confirm.status, old_confirm.json()["state"]) == (410, "superseded")

    # The second answer, confirmed by link: closed, Paul told why.
    reply = act(api, marie, number, "send-answer", {"message": "Colonne TVA ajoutée."})
    assert reply.status == 200, reply.body
    (answer,) = box.new(1)
    links = links_of(api, answer)
    reply = api.post(f"/links/{links['confirm']}", None, {})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "closed"
    (closing,) = box.new(1)
    assert closing["to"] == PAUL
    assert "confirmé" in closing["body"]
    assert_threaded(closing)
    assert_true_and_french(closing)
    final = ticket_as_staff(api, marie, number)
    assert (final["status"], final["closure_reason"]) == ("closed", "confirmed")
