"""The quarantine over the local stack (DESIGN.md §7): a message from an unknown domain, held
without an answer, read by a manager through its link, released as a ticket."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.support import Api, StackProcess

pytestmark = pytest.mark.e2e


def test_an_unknown_senders_mail_is_held_read_and_released(
    stack: StackProcess, api: Api, tokens: dict[str, str]
) -> None:
    manager = tokens["MANAGER"]
    subject = f"Bonjour de nulle part {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    message["From"] = "someone@nowhere.test"
    message["To"] = "support@helpdesk.localhost"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@nowhere.test>"
    message.set_content("Qui êtes-vous ?")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message)

    assert api.get("/mail/quarantine", tokens["L1"]).status == 403
    listed = api.get("/mail/quarantine?limit=100", manager)
    assert listed.status == 200, listed.body
    held: Any = next(m for m in listed.json()["items"] if m["subject"] == subject)
    assert (held["from"], held["reason"]) == ("someone@nowhere.test", "unknown_sender")
    outbox = api.get("/_local/outbox").json()["items"]
    assert not [m for m in outbox if m.get("to") == "someone@nowhere.test"]  # no backscatter

    link = urlsplit(held["url"])
    raw = Api(f"{link.scheme}://{link.netloc}").get(f"{link.path}?{link.query}")
    assert raw.status == 200
    assert subject.encode() in raw.body

    body = {"as": "ticket", "org_id": "acme", "type": "assistance"}
    released = api.post(f"/mail/quarantine/{held['id']}/release", manager, body)
    assert released.status == 200, released.body
    number = released.json()["ticket_number"]
    ticket = api.get(f"/tickets/{number}", manager).json()
    assert (ticket["title"], ticket["org_id"]) == (subject, "acme")
    again = api.post(f"/mail/quarantine/{held['id']}/release", manager, body)
    assert again.status == 409
