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


def test_list_mail_is_read_unanswered_broken_mail_salvaged_and_our_bounce_recorded(
    stack: StackProcess, api: Api, tokens: dict[str, str]
) -> None:
    """Issue 22 over real SMTP: a bulk mail opens a ticket without acknowledgement, a mail
    whose multipart has no boundary opens its ticket with the salvaged text, and a delivery
    report about our acknowledgement is recorded in that ticket's history."""
    manager = tokens["MANAGER"]

    def ticket_titled(title: str) -> Any:
        listed = api.get("/tickets?limit=100", manager).json()["items"]
        return next((t for t in listed if t["title"] == title), None)

    def outbox_of(number: int) -> list[Any]:
        mails = api.get("/_local/outbox").json()["items"]
        return [m for m in mails if m["subject"].startswith(f"[#{number}] ")]

    bulk = EmailMessage()
    bulk["From"] = "fabrice@acme.test"
    bulk["To"] = "support@helpdesk.localhost"
    bulk["Subject"] = "Coupure réseau samedi (liste)"
    bulk["Message-ID"] = "<bulk-e2e@acme.test>"
    bulk["Precedence"] = "list"
    bulk["List-Id"] = "Equipe IT <it.acme.test>"
    bulk.set_content("Le réseau sera coupé samedi matin.")
    send(stack, bulk)
    number = wait_for(lambda: ticket_titled("Coupure réseau samedi (liste)"))["number"]
    wait_for(lambda: outbox_of(number))  # the level's notice goes out...
    time.sleep(1)
    assert all(m["to"] != "fabrice@acme.test" for m in outbox_of(number))  # ...no answer

    broken = (
        b"From: fabrice@acme.test\r\nTo: support@helpdesk.localhost\r\n"
        b"Subject: Alternative sans boundary\r\nMessage-ID: <broken-e2e@acme.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative\r\n\r\n"
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Le texte est lisible malgré tout.".encode()
        + b"\r\n--b1--\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.sendmail("fabrice@acme.test", ["support@helpdesk.localhost"], broken)
    salvaged = wait_for(lambda: ticket_titled("Alternative sans boundary"))
    detail = api.get(f"/tickets/{salvaged['number']}", manager).json()
    assert detail["description"] == "Le texte est lisible malgré tout."

    ack = wait_for(
        lambda: next(
            (m for m in outbox_of(salvaged["number"]) if m["to"] == "fabrice@acme.test"), None
        )
    )
    report = (
        "From: MAILER-DAEMON@mx.acme.test\r\nTo: support@helpdesk.localhost\r\n"
        "Subject: Undelivered Mail\r\nMessage-ID: <dsn-e2e@mx.acme.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="d"\r\n\r\n'
        "--d\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        "--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; fabrice@acme.test\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 Mailbox full\r\n\r\n"
        "--d\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {ack['headers']['Message-ID']}\r\n--d--\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.sendmail("", ["support@helpdesk.localhost"], report)

    def bounced() -> Any:
        history = api.get(f"/tickets/{salvaged['number']}/history", manager).json()["items"]
        return next((e for e in history if e["action"] == "mail-bounced"), None)

    event = wait_for(bounced)
    assert event["details"] == {
        "recipient": "fabrice@acme.test",
        "status": "5.2.2",
        "diagnostic": "552 Mailbox full",
    }
    told = wait_for(
        lambda: next(
            (m for m in outbox_of(salvaged["number"]) if "Message non distribué" in m["subject"]),
            None,
        )
    )
    assert "fabrice@acme.test" in told["body"] and told["to"] != "fabrice@acme.test"
