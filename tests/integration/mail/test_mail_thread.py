"""A ticket created by a mail keeps that mail's Message-ID: the root of its mails' thread."""

from __future__ import annotations

from helpdesk.domain.model import TicketType
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, MANAGER
from tests.integration.mail.conftest import Mailbox, corpus


def test_the_mail_that_creates_a_ticket_is_its_thread(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    result = mailbox.deliver(corpus("plain.eml"))  # Message-ID: <plain-1@mail.acme.example>
    assert result.outcome == "ticket_created" and result.ticket_number is not None
    ticket = service.get_ticket(MANAGER, result.ticket_number)
    assert ticket.mail_thread == "<plain-1@mail.acme.example>"


def test_a_ticket_created_through_the_api_has_no_mail_thread(service: HelpdeskService) -> None:
    ticket = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE)
    assert service.get_ticket(MANAGER, ticket.number).mail_thread == ""
