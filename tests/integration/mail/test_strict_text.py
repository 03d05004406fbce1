"""A stray control character in a mail is removed, not a quarantine (DESIGN.md §7: titles
refuse control characters; §6: nothing a mail sender sent is dropped)."""

from __future__ import annotations

import base64

import pytest

from helpdesk.service import HelpdeskService
from tests.integration.mail.conftest import Mailbox


def _mail(subject_header: str, body: bytes, message_id: str) -> bytes:
    return (
        b"From: Fabrice Martin <fabrice@acme.example>\r\n"
        b"To: Support <support@helpdesk.localhost>\r\n"
        + f"Subject: {subject_header}\r\n".encode()
        + b"Date: Fri, 27 Nov 2026 09:00:00 +0100\r\n"
        + f"Message-ID: <{message_id}@mail.acme.example>\r\n".encode()
        + b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )


def _encoded(subject: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?="


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Facture\x07 impayée", "Facture impayée"),
        ("Facture\x00impayée", "Facture impayée"),
        ("\x1b[31mUrgent", "[31mUrgent"),
        ("Facture \u202eeérutcaF", "Facture eérutcaF"),
        ("\x07\x00", "(sans objet)"),
    ],
)
def test_a_subject_with_control_characters_opens_a_ticket_with_them_removed(
    mailbox: Mailbox, service: HelpdeskService, subject: str, title: str
) -> None:
    result = mailbox.deliver(_mail(_encoded(subject), b"Bonjour,\x0c\r\nmerci.\x00\r\n", "s1"))
    assert result.outcome == "ticket_created", result
    assert result.ticket_number is not None
    ticket = service.uow.tickets.get(result.ticket_number)
    assert ticket.title == title
    assert "\x0c" not in ticket.description and "\x00" not in ticket.description
    assert ticket.description.startswith("Bonjour,")


def test_a_reply_with_control_characters_becomes_a_comment(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    first = mailbox.deliver(_mail("Facture", b"Bonjour\r\n", "r1"))
    assert first.ticket_number is not None
    reply = mailbox.deliver(
        _mail(f"Re: [#{first.ticket_number}] Facture", b"Merci\x07\r\n\tFabrice\r\n", "r2")
    )
    assert reply.outcome == "comment_added", reply
    comments = service.uow.tickets.comments(first.ticket_number)
    assert [c.body for c in comments] == ["Merci\n\tFabrice"]
