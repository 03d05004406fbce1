"""Crashes and concurrent deliveries: every message has one effect, and always an outcome."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
from helpdesk.adapters.dynamodb.toolkit import Table, marshal
from helpdesk.domain.listing import TicketQuery
from helpdesk.mail_ingest import MailIngestion, MailSource
from helpdesk.service import HelpdeskService
from tests.conftest import MANAGER
from tests.integration.mail.conftest import INBOUND_BUCKET, Mailbox, corpus

THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
)


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def ticket_count(service: HelpdeskService) -> int:
    return len(service.list_tickets(MANAGER, TicketQuery(), None, 100)[0])


def test_a_crash_before_the_commit_is_retried_to_one_ticket(
    mailbox: Mailbox, service: HelpdeskService, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Table.transact
    calls = {"n": 0}

    def crash_once(self: Table, operations: list[dict[str, Any]]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # the first transaction of a plain mail: its ticket and outcome
            raise THROTTLED
        original(self, operations)

    monkeypatch.setattr(Table, "transact", crash_once)
    with pytest.raises(ClientError):  # transient: re-raised so that Lambda retries
        mailbox.deliver(corpus("plain.eml"))
    failed = DynamoMailRepository(table).get(sha(corpus("plain.eml")))
    assert failed.outcome == "failed"
    retried = mailbox.deliver(corpus("plain.eml"))
    assert (retried.outcome, retried.ticket_number, retried.replayed) == (
        "ticket_created",
        1,
        False,
    )
    assert ticket_count(service) == 1


def test_a_crash_after_the_commit_is_retried_without_a_second_ticket(
    mailbox: Mailbox, service: HelpdeskService, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Table.transact
    calls = {"n": 0}

    def crash_once(self: Table, operations: list[dict[str, Any]]) -> None:
        original(self, operations)
        calls["n"] += 1
        if calls["n"] == 1:
            raise THROTTLED  # the transaction is committed; the reply never comes back

    monkeypatch.setattr(Table, "transact", crash_once)
    with pytest.raises(ClientError):
        mailbox.deliver(corpus("attachments.eml"))
    retried = mailbox.deliver(corpus("attachments.eml"))
    assert (retried.outcome, retried.ticket_number, retried.replayed) == ("ticket_created", 1, True)
    assert ticket_count(service) == 1
    listed = mailbox.s3.list_objects_v2(Bucket="helpdesk-test-attachments")
    assert len(listed["Contents"]) == 2  # the step after the commit was resumed


def test_a_bug_is_recorded_as_failed_and_not_retried(
    mailbox: Mailbox, service: HelpdeskService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(MailIngestion, "_route", bug)
    result = mailbox.deliver(corpus("plain.eml"))
    assert result.outcome == "failed" and "KeyError" in (result.detail or "")
    record = mailbox.record(result)
    assert record.outcome == "failed"
    monkeypatch.undo()
    assert mailbox.deliver(corpus("plain.eml")).outcome == "ticket_created"  # a replay completes


@pytest.mark.parametrize("same_bytes", [True, False])
def test_concurrent_deliveries_of_one_message_give_one_ticket(
    ingestion: MailIngestion, service: HelpdeskService, s3: Any, same_bytes: bool
) -> None:
    raw = corpus("plain.eml")
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/x", Body=raw)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def deliver(i: int) -> None:
        message = raw if same_bytes else f"Received: by mx{i}\r\n".encode() + raw
        barrier.wait()
        results.append(ingestion.ingest(message, MailSource(INBOUND_BUCKET, "inbound/x")).outcome)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ticket_count(service) == 1
    assert results.count("ticket_created") == (6 if same_bytes else 1)
    if not same_bytes:
        assert results.count("duplicate") == 5


def test_the_outcome_commits_with_the_effect(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail record turns final in the very transaction that creates the ticket."""
    seen: list[list[str]] = []
    original = Table.transact

    def spy(self: Table, operations: list[dict[str, Any]]) -> None:
        bodies = [next(iter(op.values())) for op in operations]
        seen.append([(b.get("Key") or b["Item"])["pk"]["S"] for b in bodies])
        original(self, operations)

    monkeypatch.setattr(Table, "transact", spy)
    mailbox.deliver(corpus("plain.eml"))
    [creation] = [pks for pks in seen if "TICKET#1" in pks]
    mail_pk = f"MAIL#{sha(corpus('plain.eml'))}"
    assert {mail_pk, "MSGIN#plain-1@mail.acme.example"} <= set(creation)


def handled_unseen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next delivery's screening finds its Message-ID not handled yet: as if the delivery
    that handled it committed between that look-up and this delivery's own commit."""
    original = DynamoMailRepository.handled_message
    calls = {"n": 0}

    def first_unseen(self: DynamoMailRepository, message_id: str) -> Mapping[str, Any] | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else original(self, message_id)

    monkeypatch.setattr(DynamoMailRepository, "handled_message", first_unseen)


def test_an_outcome_that_cannot_commit_takes_its_ticket_with_it(
    mailbox: Mailbox, service: HelpdeskService, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Message-ID's condition fails in the creating transaction: nothing of it is written
    (no ticket, no number taken, no acknowledgement), and the mail is recorded a duplicate."""
    first = mailbox.deliver(corpus("plain.eml"))
    assert (first.outcome, first.ticket_number) == ("ticket_created", 1)
    handled_unseen_once(monkeypatch)
    raw = b"Received: from mx2.acme.example\r\n" + corpus("plain.eml")
    second = mailbox.deliver(raw)
    assert (second.outcome, second.reason, second.ticket_number) == (
        "duplicate",
        "same_message_id",
        1,
    )
    assert mailbox.record(second).duplicate_of == first.sha256
    assert ticket_count(service) == 1
    ticket_2 = table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues=marshal({":pk": "TICKET#2"})
    )
    assert list(ticket_2) == []  # no ticket, no history event, no acknowledgement
    assert table.get(keys.COUNTER_KEY) == {**keys.COUNTER_KEY, "value": 1}


def test_an_outcome_that_cannot_commit_takes_its_comment_with_it(
    mailbox: Mailbox, service: HelpdeskService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Likewise for a reply: no comment without its outcome, the ticket left as it was."""
    ticket = mailbox.deliver(corpus("plain.eml"))
    assert ticket.ticket_number is not None
    raw = corpus("reply_subject_tag.eml")
    assert mailbox.deliver(raw).outcome == "comment_added"
    version = service.uow.tickets.get(ticket.ticket_number).version
    handled_unseen_once(monkeypatch)
    again = mailbox.deliver(b"X-Relay: 2\r\n" + raw)
    assert (again.outcome, again.reason) == ("duplicate", "same_message_id")
    assert len(service.comments(MANAGER, ticket.ticket_number)) == 1
    assert service.uow.tickets.get(ticket.ticket_number).version == version
