"""The corpus of issue 7: each message delivered against moto, its outcome asserted."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.attachments import DynamoAttachmentRecords
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.domain.attachments import Rejection
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import Caller, Role, Source, Status, Ticket, TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.mail_ingest import MailConfig
from helpdesk.service import HelpdeskService
from tests.conftest import MANAGER
from tests.integration.mail.conftest import ATTACHMENTS_BUCKET, Mailbox, corpus, mail_ingestion

FABRICE = Caller(
    id="mail:fabrice@acme.example", role=Role.CLIENT, email="fabrice@acme.example", org_id="acme"
)


def tickets(service: HelpdeskService) -> list[Ticket]:
    found, _ = service.list_tickets(MANAGER, TicketQuery(), None, 100)
    return sorted(found, key=lambda t: t.number)


def opened(mailbox: Mailbox, service: HelpdeskService, name: str) -> Ticket:
    result = mailbox.deliver(corpus(name))
    assert result.outcome == "ticket_created", result
    assert result.ticket_number is not None
    return service.uow.tickets.get(result.ticket_number)


# ---------------------------------------------------------------- new tickets


def test_plain_mail_opens_an_assistance_ticket_for_the_senders_organisation(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    assert ticket.number == 1
    assert ticket.title == "Création de l'utilisateur Fabrice"
    assert ticket.description.startswith("Bonjour,\n\nMerci de créer le compte de Fabrice")
    assert (ticket.type, ticket.org_id, ticket.source) == (
        TicketType.ASSISTANCE,
        "acme",
        Source.EMAIL,
    )
    assert (ticket.requester, ticket.requester_email) == (FABRICE.id, "fabrice@acme.example")
    record = mailbox.record(mailbox.deliver(corpus("plain.eml")))
    assert record.s3_key == "inbound/msg-1"  # the raw message stays where it was received


def test_html_only_mail_becomes_readable_text_and_incident_opens_an_incident(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    ticket = opened(mailbox, service, "html_only.eml")
    assert ticket.type is TicketType.INCIDENT
    assert ticket.title == "L'export plante"  # Fwd: TR: stripped
    assert ticket.description == (
        "Bonjour,\n\nL'export mensuel plante depuis ce matin :\n\n- écran blanc\n- erreur 500"
        "\n\nVoir la page (https://app.acme.example/export).\nMerci !"
    )
    assert "<" not in ticket.description and "alert" not in ticket.description


def test_attachments_become_checked_attachments_of_the_ticket(
    mailbox: Mailbox, service: HelpdeskService, s3: Any, table: Table
) -> None:
    ticket = opened(mailbox, service, "attachments.eml")
    assert ticket.type is TicketType.EVOLUTION
    assert ticket.attachments == ("cahier des charges.pdf", "capture écran.png")
    assert ticket.description.startswith("Nous souhaitons un export trimestriel")
    records = DynamoAttachmentRecords(table).page(ticket.number, False, None, 10).items
    assert [(r.filename, r.content_type, r.status.value, r.source.value) for r in records] == [
        ("cahier des charges.pdf", "application/pdf", "available", "email"),
        ("capture écran.png", "image/png", "available", "email"),
    ]
    assert {r.uploaded_by for r in records} == {"fabrice@acme.example"}
    assert all(r.comment_id is None and not r.internal for r in records)
    assert service.uow.tickets.get(ticket.number).attachments_available == 2
    listed = s3.list_objects_v2(
        Bucket=ATTACHMENTS_BUCKET, Prefix=f"tickets/{ticket.number}/attachments/"
    )
    keys_ = sorted(o["Key"] for o in listed["Contents"])
    assert keys_ == sorted(f"tickets/{ticket.number}/attachments/{r.id}" for r in records)
    pdf = s3.get_object(Bucket=ATTACHMENTS_BUCKET, Key=records[0].key)
    assert pdf["ContentType"] == "application/pdf"
    body = pdf["Body"].read()
    assert body.startswith(b"%PDF-1.4")
    assert records[0].sha256 == hashlib.sha256(body).hexdigest()
    again = mailbox.record(mailbox.deliver(corpus("attachments.eml")))
    assert not again.attachments_pending
    assert len(DynamoAttachmentRecords(table).page(ticket.number, False, None, 10).items) == 2
    assert service.uow.tickets.get(ticket.number).attachments_available == 2


def test_attachments_are_listed_even_without_a_bucket(
    service: HelpdeskService, table: Table, s3: Any, mail_config: MailConfig
) -> None:
    ingestion = mail_ingestion(table, mail_config, None, service.clock, attachments_bucket=None)
    mailbox = Mailbox(ingestion, s3)
    ticket = opened(mailbox, service, "attachments.eml")
    assert ticket.attachments == ("cahier des charges.pdf", "capture écran.png")


def test_latin1_body_and_encoded_word_subject_are_decoded(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    ticket = opened(mailbox, service, "latin1.eml")
    assert ticket.title == "Problème d'accès à l'application"
    assert "« accès refusé »" in ticket.description
    assert ticket.description.endswith("Renée")


# ---------------------------------------------------------------- replies


@pytest.mark.parametrize("stored_form", ["ack-1@helpdesk.localhost", "<ack-1@helpdesk.localhost>"])
def test_reply_by_in_reply_to_our_message_id_lands_as_a_comment(
    mailbox: Mailbox,
    service: HelpdeskService,
    sent_message: Callable[[str, int], None],
    stored_form: str,
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    sent_message(stored_form, ticket.number)
    result = mailbox.deliver(corpus("reply_in_reply_to.eml"))
    assert (result.outcome, result.ticket_number) == ("comment_added", ticket.number)
    [comment] = service.comments(FABRICE, ticket.number)
    assert comment.body == "Voici l'identifiant manquant : FMARTIN."  # the quote is left out
    assert (comment.source, comment.author) == (Source.EMAIL, FABRICE.id)
    assert comment.message_id == "reply-irt-1@mail.acme.example"
    assert comment.id == result.comment_id
    assert len(tickets(service)) == 1


def test_our_message_id_wins_over_the_subject_tag(
    mailbox: Mailbox, service: HelpdeskService, sent_message: Callable[[str, int], None]
) -> None:
    first = opened(mailbox, service, "plain.eml")
    second = opened(mailbox, service, "latin1.eml")
    sent_message("ack-1@helpdesk.localhost", second.number)
    raw = corpus("reply_in_reply_to.eml").replace(b"Subject: Re:", b"Subject: Re: [#1]")
    result = mailbox.deliver(raw)
    assert (result.outcome, result.ticket_number) == ("comment_added", second.number)
    assert service.comments(FABRICE, first.number) == []


def test_reply_by_subject_tag_only_lands_as_a_comment(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    result = mailbox.deliver(corpus("reply_subject_tag.eml"))
    assert (result.outcome, result.ticket_number) == ("comment_added", ticket.number)
    [comment] = service.comments(FABRICE, ticket.number)
    assert comment.body == "Il faut aussi lui donner le droit d'export."


def test_a_reply_from_another_organisation_is_quarantined(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    result = mailbox.deliver(corpus("stranger_reply.eml"))
    assert (result.outcome, result.reason) == ("quarantined", "stranger_reply")
    assert result.ticket_number == ticket.number
    assert service.comments(MANAGER, ticket.number) == []
    assert mailbox.record(result).s3_key == "inbound/msg-2"


def test_a_reply_to_a_closed_ticket_opens_a_linked_ticket_exactly_once(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    old = opened(mailbox, service, "plain.eml")
    service.perform(FABRICE, old.number, Action.CANCEL, ActionInput())
    assert service.uow.tickets.get(old.number).status is Status.CLOSED
    raw = corpus("closed_reply.eml")
    results = [
        mailbox.deliver(raw),
        mailbox.deliver(raw),
        mailbox.deliver(b"Received: from relay.acme.example\r\n" + raw),
    ]
    assert [r.outcome for r in results] == ["ticket_created", "ticket_created", "duplicate"]
    assert results[1].replayed
    new = service.uow.tickets.get(2)
    assert (new.linked_ticket, new.type, new.org_id) == (old.number, old.type, "acme")
    assert new.title == "Demande fermée : Création de l'utilisateur Fabrice"
    assert {r.ticket_number for r in results} == {new.number}
    assert len(tickets(service)) == 2
    assert service.comments(MANAGER, old.number) == []


# ---------------------------------------------------------------- bulk and list mail


def test_bulk_mail_opens_a_ticket_without_acknowledgement(
    mailbox: Mailbox, service: HelpdeskService, table: Table
) -> None:
    ticket = opened(mailbox, service, "bulk_newsletter.eml")
    assert ticket.title == "Coupure du réseau samedi"
    assert ticket.description.startswith("Bonjour à tous,")
    outbox = list(table.partition(keys.ticket_pk(ticket.number), "OUTBOX#"))
    # RFC 3834: never answered automatically; the level's consultants are still told.
    assert [item["kind"] for item in outbox] == ["staff_new_ticket"]
    record = mailbox.record(mailbox.deliver(corpus("bulk_newsletter.eml")))
    assert record.no_reply == "Precedence: bulk"


def test_a_list_reply_lands_as_a_comment(
    mailbox: Mailbox, service: HelpdeskService, table: Table
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    result = mailbox.deliver(corpus("list_reply.eml"))
    assert (result.outcome, result.ticket_number) == ("comment_added", ticket.number)
    [comment] = service.comments(FABRICE, ticket.number)
    assert comment.body == "Je mets la liste en copie : le compte doit être créé avant lundi."
    assert mailbox.record(result).no_reply == "Precedence: list"
    outbox = list(table.partition(keys.ticket_pk(ticket.number), "OUTBOX#"))
    client_mails = [i["kind"] for i in outbox if i.get("to") == "fabrice@acme.example"]
    assert client_mails == ["created"]  # the plain mail's acknowledgement, nothing more


# ---------------------------------------------------------------- nothing created


@pytest.mark.parametrize("name", ["out_of_office.eml", "bounce.eml"])
def test_auto_replies_and_bounces_are_recorded_and_create_nothing(
    mailbox: Mailbox, service: HelpdeskService, table: Table, name: str
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    result = mailbox.deliver(corpus(name))
    assert result.outcome == "ignored_auto_reply"
    assert result.detail
    assert len(tickets(service)) == 1
    assert service.comments(MANAGER, ticket.number) == []
    outbox = list(table.partition(keys.ticket_pk(ticket.number), "OUTBOX#"))
    # The acknowledgement and the level's notice of the new ticket only: no reply.
    assert [item["kind"] for item in outbox] == ["created", "staff_new_ticket"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed.eml", "malformed"),
        ("unknown_sender.eml", "unknown_sender"),
        ("unknown_recipient.eml", "unknown_recipient"),
    ],
)
def test_what_cannot_be_accepted_is_quarantined_with_the_reason(
    mailbox: Mailbox, service: HelpdeskService, s3: Any, name: str, reason: str
) -> None:
    result = mailbox.deliver(corpus(name), key=f"inbound/{name}")
    assert (result.outcome, result.reason) == ("quarantined", reason)
    record = mailbox.record(result)
    assert (record.s3_bucket, record.s3_key) == ("helpdesk-test-inbound", f"inbound/{name}")
    assert s3.get_object(Bucket=record.s3_bucket, Key=record.s3_key)["Body"].read() == corpus(name)
    assert tickets(service) == []


def test_an_oversized_message_is_quarantined(mailbox: Mailbox, service: HelpdeskService) -> None:
    attachment = b"A" * (10 * 1024 * 1024)
    raw = corpus("plain.eml") + attachment
    result = mailbox.deliver(raw)
    assert (result.outcome, result.reason) == ("quarantined", "oversized")
    assert result.detail is not None and str(len(raw)) in result.detail
    assert tickets(service) == []


def test_a_flood_from_one_sender_is_rate_limited(
    service: HelpdeskService, table: Table, s3: Any, mail_config: MailConfig
) -> None:
    config = MailConfig(mail_config.routing, rate_limit=3)
    mailbox = Mailbox(mail_ingestion(table, config, s3, service.clock), s3)
    raw = corpus("plain.eml")
    outcomes = [
        mailbox.deliver(raw.replace(b"plain-1@", f"flood-{i}@".encode())).outcome for i in range(5)
    ]
    assert outcomes == ["ticket_created"] * 3 + ["rate_limited"] * 2
    assert len(tickets(service)) == 3
    service.clock.advance(hours=1)  # type: ignore[attr-defined]
    assert mailbox.deliver(raw.replace(b"plain-1@", b"later@")).outcome == "ticket_created"


# ---------------------------------------------------------------- duplicates


def test_the_same_bytes_delivered_twice_give_one_ticket(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    first = mailbox.deliver(corpus("plain.eml"))
    second = mailbox.deliver(corpus("plain.eml"))
    assert (first.outcome, first.replayed) == ("ticket_created", False)
    assert (second.outcome, second.replayed, second.ticket_number) == ("ticket_created", True, 1)
    assert len(tickets(service)) == 1


def test_the_same_message_id_in_other_bytes_is_a_duplicate(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    first = mailbox.deliver(corpus("plain.eml"))
    again = mailbox.deliver(b"Received: from mx2.acme.example\r\n" + corpus("plain.eml"))
    assert (again.outcome, again.reason) == ("duplicate", "same_message_id")
    assert again.ticket_number == first.ticket_number
    assert mailbox.record(again).duplicate_of == first.sha256
    assert len(tickets(service)) == 1


def test_a_duplicate_reply_adds_one_comment(mailbox: Mailbox, service: HelpdeskService) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    raw = corpus("reply_subject_tag.eml")
    outcomes = [mailbox.deliver(raw).outcome, mailbox.deliver(b"X-Relay: 2\r\n" + raw).outcome]
    assert outcomes == ["comment_added", "duplicate"]
    assert len(service.comments(MANAGER, ticket.number)) == 1


def test_files_of_a_reply_become_attachments_of_its_comment_checked_alike(
    mailbox: Mailbox, service: HelpdeskService, table: Table
) -> None:
    ticket = opened(mailbox, service, "plain.eml")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30).decode()
    exe = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 30).decode()
    raw = (
        "From: fabrice@acme.example\r\nTo: support@helpdesk.localhost\r\n"
        f"Subject: RE: [#{ticket.number}] capture\r\nMessage-ID: <reply-files@acme.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici la capture.\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="../écran.png"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n"
        "--b\r\nContent-Type: image/png\r\n"
        'Content-Disposition: attachment; filename="photo.png"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{exe}\r\n--b--\r\n"
    ).encode()
    result = mailbox.deliver(raw)
    assert result.outcome == "comment_added"
    records = DynamoAttachmentRecords(table).page(ticket.number, False, None, 10).items
    assert [(r.filename, r.content_type, r.status.value, r.reason) for r in records] == [
        ("écran.png", "image/png", "available", None),  # octet-stream: its name says png
        ("photo.png", "image/png", "rejected", Rejection.TYPE_MISMATCH),
    ]
    assert {r.comment_id for r in records} == {result.comment_id}
    assert {r.source for r in records} == {Source.EMAIL}
    assert service.uow.tickets.get(ticket.number).attachments_available == 1
