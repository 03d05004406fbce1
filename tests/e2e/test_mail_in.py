"""Mail in over real SMTP: a ticket from a client's mail, the acknowledgement in the outbox, and
the reply to that acknowledgement landing as a comment on the same ticket."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.support import Api, StackProcess

pytestmark = pytest.mark.e2e


def send(stack: StackProcess, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message)


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_mail_opens_a_ticket_and_the_reply_to_the_acknowledgement_threads(
    stack: StackProcess, api: Api, tokens: dict[str, str]
) -> None:
    client = tokens["CLIENT_ACME"]
    first = EmailMessage()
    first["From"] = "Fabrice <fabrice@acme.test>"
    first["To"] = "incident@helpdesk.localhost"
    first["Subject"] = "Erreur 500 sur la facturation"
    first["Message-ID"] = "<first-mail@acme.test>"
    first.set_content("Depuis ce matin la page facturation renvoie une erreur 500.")
    send(stack, first)

    listed = api.get("/tickets?limit=100", client).json()["items"]
    ticket = next(t for t in listed if t["title"] == "Erreur 500 sur la facturation")
    assert (ticket["org_id"], ticket["type"], ticket["status"]) == ("acme", "incident", "open")
    number = ticket["number"]

    def acknowledgement() -> Any:
        mails = api.get("/_local/outbox").json()["items"]
        # The requester's acknowledgement (level 2's consultants are told of the ticket too).
        return next(
            (
                m
                for m in mails
                if m["subject"].startswith(f"[#{number}] ") and m["to"] == "fabrice@acme.test"
            ),
            None,
        )

    ack = wait_for(acknowledgement)
    assert ack["to"] == "fabrice@acme.test"

    reply = EmailMessage()
    reply["From"] = "fabrice@acme.test"
    reply["To"] = "incident@helpdesk.localhost"
    reply["Subject"] = f"Re: {ack['subject']}"
    reply["In-Reply-To"] = ack["headers"]["Message-ID"]
    reply["References"] = ack["headers"]["Message-ID"]
    reply["Message-ID"] = "<reply-mail@acme.test>"
    reply.set_content("Capture d'écran jointe plus tard, merci.")
    send(stack, reply)

    comments = api.get(f"/tickets/{number}/comments", client).json()["items"]
    assert [(c["source"], c["body"]) for c in comments] == [
        ("email", "Capture d'écran jointe plus tard, merci.")
    ]
    listed_after = api.get("/tickets?limit=100", client).json()["items"]
    assert sum(t["title"] == "Erreur 500 sur la facturation" for t in listed_after) == 1


def test_mail_to_another_domain_is_refused_by_the_smtp_server(stack: StackProcess) -> None:
    message = EmailMessage()
    message["From"] = "fabrice@acme.test"
    message["To"] = "someone@elsewhere.test"
    message["Subject"] = "hello"
    message.set_content("x")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(stack, message)
