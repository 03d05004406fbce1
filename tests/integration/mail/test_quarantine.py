"""The quarantine (DESIGN.md §7) on moto: messages quarantined by the real ingestion, listed
newest first with a link to the raw message, released once as a ticket or a comment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.raw_mail import S3RawMailStore
from helpdesk.bootstrap_mail import quarantine_over
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from helpdesk.domain.model import Source, TicketType
from helpdesk.quarantine import Quarantine
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from tests.conftest import CLIENT, FINANCE, L3, MANAGER, TABLE_NAME, Clock
from tests.integration.mail.conftest import Mailbox, corpus
from tests.integration.store_support import outbox_items


def sha(name: str) -> str:
    return hashlib.sha256(corpus(name)).hexdigest()


@pytest.fixture
def quarantine(
    table: Table, s3: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Quarantine]:
    """As the API builds it (helpdesk.bootstrap_mail), links signed as the settings say."""
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    get_settings.cache_clear()
    yield quarantine_over(table, S3RawMailStore.from_settings(s3), clock)
    get_settings.cache_clear()


def quarantined(mailbox: Mailbox, name: str) -> str:
    result = mailbox.deliver(corpus(name))
    assert result.outcome == "quarantined", result
    return result.sha256


def ids(quarantine: Quarantine, **kwargs: Any) -> list[str]:
    entries, _ = quarantine.entries(MANAGER, None, **kwargs)
    return [e.mail.sha256 for e in entries]


# ---------------------------------------------------------------- listing


def test_the_quarantine_lists_what_was_held_newest_first_with_what_it_is(
    mailbox: Mailbox, quarantine: Quarantine, clock: Clock
) -> None:
    quarantined(mailbox, "unknown_sender.eml")  # 09:00
    clock.advance(minutes=1)
    assert mailbox.deliver(corpus("plain.eml")).outcome == "ticket_created"  # not listed
    clock.advance(minutes=1)
    quarantined(mailbox, "unknown_recipient.eml")  # 09:02
    clock.advance(minutes=1)
    quarantined(mailbox, "stranger_reply.eml")  # 09:03
    entries, cursor = quarantine.entries(MANAGER, None)
    assert [e.mail.sha256 for e in entries] == [
        sha("stranger_reply.eml"),
        sha("unknown_recipient.eml"),
        sha("unknown_sender.eml"),
    ]
    assert cursor is None
    oldest = entries[2].mail
    assert (
        oldest.received_at,
        oldest.sender,
        oldest.to,
        oldest.subject,
        oldest.reason,
        oldest.size,
        oldest.message_id,
    ) == (
        "2026-11-27T09:00:00Z",
        "someone@unknown.example",
        ("support@helpdesk.localhost",),
        "Hello",
        "unknown_sender",
        len(corpus("unknown_sender.eml")),
        "unknown-1@unknown.example",
    )
    assert [e.mail.reason for e in entries[:2]] == ["stranger_reply", "unknown_recipient"]


def test_the_quarantine_is_paged(mailbox: Mailbox, quarantine: Quarantine, clock: Clock) -> None:
    names = ["unknown_sender.eml", "unknown_recipient.eml", "malformed.eml"]
    for name in names:
        quarantined(mailbox, name)
        clock.advance(minutes=1)
    first, cursor = quarantine.entries(MANAGER, None, 2)
    assert [e.mail.sha256 for e in first] == [sha("malformed.eml"), sha("unknown_recipient.eml")]
    assert cursor is not None
    second, last = quarantine.entries(MANAGER, cursor, 2)
    assert [e.mail.sha256 for e in second] == [sha("unknown_sender.eml")]
    assert last is None
    with pytest.raises(InvalidInput) as bad:
        quarantine.entries(MANAGER, None, 101)
    assert bad.value.field == "limit"
    with pytest.raises(InvalidInput) as bad:
        quarantine.entries(MANAGER, "not-a-cursor", 2)
    assert bad.value.field == "cursor"


def test_the_link_is_a_five_minute_presigned_get_of_the_raw_message(
    mailbox: Mailbox, quarantine: Quarantine, s3: Any
) -> None:
    quarantined(mailbox, "unknown_sender.eml")
    [entry] = quarantine.entries(MANAGER, None)[0]
    url = urlparse(entry.url)
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    reply = requests.get(entry.url, timeout=10)  # moto answers the presigned GET
    assert (reply.status_code, reply.content) == (200, corpus("unknown_sender.eml"))


def test_only_managers_read_or_release_the_quarantine(
    mailbox: Mailbox, quarantine: Quarantine
) -> None:
    sha256 = quarantined(mailbox, "unknown_sender.eml")
    for caller in (L3, CLIENT, FINANCE):
        with pytest.raises(Forbidden):
            quarantine.entries(caller, None)
        with pytest.raises(Forbidden):
            quarantine.release_as_ticket(caller, sha256, "acme", TicketType.ASSISTANCE)
        with pytest.raises(Forbidden):
            quarantine.release_as_comment(caller, sha256, 1)


# ---------------------------------------------------------------- releasing


def test_a_release_as_ticket_opens_it_for_the_sender_with_its_acknowledgement(
    mailbox: Mailbox, quarantine: Quarantine, service: HelpdeskService, table: Table, clock: Clock
) -> None:
    sha256 = quarantined(mailbox, "unknown_sender.eml")
    clock.advance(hours=1)
    release = quarantine.release_as_ticket(MANAGER, sha256, "acme", TicketType.INCIDENT)
    assert (release.released_as, release.ticket_number, release.comment_id) == ("ticket", 1, None)
    ticket = service.uow.tickets.get(1)
    assert (ticket.title, ticket.description) == ("Hello", "Who are you?")
    assert (ticket.requester, ticket.requester_email) == (
        "mail:someone@unknown.example",
        "someone@unknown.example",
    )
    assert (ticket.org_id, ticket.type, ticket.source) == (
        "acme",
        TicketType.INCIDENT,
        Source.EMAIL,
    )
    ack, staff = outbox_items(table.client, 1)  # the level's consultants are told too (§8)
    assert (ack["kind"], ack["to"]) == ("created", "someone@unknown.example")
    assert staff["kind"] == "staff_new_ticket"
    record = table.get(keys.mail_key(sha256))
    assert record is not None
    assert (
        record["outcome"],
        record["released_by"],
        record["released_at"],
        record["released_as"],
        int(record["ticket_number"]),
        record["reason"],
    ) == ("released", "manager-1", "2026-11-27T10:00:00Z", "ticket", 1, "unknown_sender")
    assert "quarantine_pk" not in record and "quarantine_sk" not in record
    assert ids(quarantine) == []


def test_a_release_as_comment_adds_the_senders_text_to_that_ticket(
    mailbox: Mailbox, quarantine: Quarantine, service: HelpdeskService, table: Table
) -> None:
    assert mailbox.deliver(corpus("plain.eml")).ticket_number == 1
    sha256 = quarantined(mailbox, "stranger_reply.eml")
    calls: list[str] = []

    def count(event_name: str, **_kwargs: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    table.client.meta.events.register("before-call.dynamodb", count)
    try:
        release = quarantine.release_as_comment(MANAGER, sha256, 1)
    finally:
        table.client.meta.events.unregister("before-call.dynamodb", count)
    # the mail record, the ticket (once: its organisation makes the sender's caller), then
    # the comment and the record released in one transaction
    assert calls == ["GetItem", "GetItem", "TransactWriteItems"]
    [comment] = service.comments(MANAGER, 1)
    assert comment.body == "Je réponds sur un ticket qui n'est pas le mien."
    assert (comment.author, comment.source, comment.id) == (
        "mail:gina@globex.example",
        Source.EMAIL,
        release.comment_id,
    )
    record = table.get(keys.mail_key(sha256))
    assert record is not None
    assert (record["outcome"], record["released_as"], record["comment_id"]) == (
        "released",
        "comment",
        release.comment_id,
    )
    assert ids(quarantine) == []


def test_a_message_is_released_once(
    mailbox: Mailbox, quarantine: Quarantine, service: HelpdeskService
) -> None:
    sha256 = quarantined(mailbox, "unknown_sender.eml")
    quarantine.release_as_ticket(MANAGER, sha256, "acme", TicketType.ASSISTANCE)
    with pytest.raises(Conflict):
        quarantine.release_as_ticket(MANAGER, sha256, "acme", TicketType.ASSISTANCE)
    with pytest.raises(Conflict):
        quarantine.release_as_comment(MANAGER, sha256, 1)
    assert service.uow.tickets.next_number() == 2  # one ticket
    assert service.comments(MANAGER, 1) == []
    # The same bytes delivered again change nothing: the record says released.
    again = mailbox.deliver(corpus("unknown_sender.eml"))
    assert (again.outcome, again.replayed) == ("released", True)


def test_of_two_concurrent_releases_one_wins(
    mailbox: Mailbox, table: Table, s3: Any, clock: Clock, service: HelpdeskService
) -> None:
    assert mailbox.deliver(corpus("plain.eml")).ticket_number == 1
    sha256 = quarantined(mailbox, "unknown_sender.eml")
    other = quarantine_over(table, S3RawMailStore(s3), clock)

    class Interleaved(S3RawMailStore):
        """Another manager's release commits after this one found the mail quarantined,
        before this one commits."""

        def read(self, bucket: str, key: str) -> bytes:
            other.release_as_comment(MANAGER, sha256, 1)
            return super().read(bucket, key)

    racing = quarantine_over(table, Interleaved(s3), clock)
    with pytest.raises(Conflict) as lost:
        racing.release_as_ticket(MANAGER, sha256, "acme", TicketType.ASSISTANCE)
    assert "already released as a comment on ticket #1 by manager-1" in lost.value.detail
    assert service.uow.tickets.next_number() == 2  # the loser's ticket was not written
    [comment] = service.comments(MANAGER, 1)  # the winner's comment
    record = table.get(keys.mail_key(sha256))
    assert record is not None
    assert (record["released_as"], record["comment_id"]) == ("comment", comment.id)


def test_unknown_and_unreleasable_ids(
    mailbox: Mailbox, quarantine: Quarantine, service: HelpdeskService
) -> None:
    with pytest.raises(NotFound):
        quarantine.release_as_ticket(MANAGER, "0" * 64, "acme", TicketType.ASSISTANCE)
    ticket_mail = mailbox.deliver(corpus("plain.eml"))  # became a ticket: never quarantined
    with pytest.raises(NotFound):
        quarantine.release_as_comment(MANAGER, ticket_mail.sha256, 1)
    sha256 = quarantined(mailbox, "unknown_sender.eml")
    with pytest.raises(InvalidInput) as bad:
        quarantine.release_as_ticket(MANAGER, sha256, "nobody", TicketType.ASSISTANCE)
    assert bad.value.field == "org_id"
    with pytest.raises(InvalidInput) as bad:
        quarantine.release_as_comment(MANAGER, sha256, 99)
    assert bad.value.field == "ticket"
    malformed = quarantined(mailbox, "malformed.eml")
    with pytest.raises(Conflict):
        quarantine.release_as_ticket(MANAGER, malformed, "acme", TicketType.ASSISTANCE)
    assert service.uow.tickets.next_number() == 2  # only the plain mail's ticket
    assert set(ids(quarantine)) == {sha256, malformed}
