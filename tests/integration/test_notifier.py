"""The outbox: messages committed with each change, sent once each through SES."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from bench.calls_per_route import item_size
from helpdesk import bootstrap
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.outbox import DynamoOutboxClaims
from helpdesk.adapters.dynamodb.repositories import DynamoDirectoryRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.adapters.ses import SesMailer
from helpdesk.domain.model import Ticket, TicketType
from helpdesk.domain.outbox import Channel
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.notifier import DeliveryInProgress, Notifier
from helpdesk.service import HelpdeskService
from infra import moto_streams
from infra.moto_streams import matches_outbox_filter
from tests.conftest import CLIENT, L1, REGION, TABLE_NAME, Clock
from tests.integration.store_support import outbox_items
from tests.support.functions import load_function

DOMAIN = "helpdesk.localhost"


@pytest.fixture
def ses(dynamodb: Any) -> Any:
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=DOMAIN)
    return boto3.client("sesv2", region_name=REGION)


@pytest.fixture
def notifier(table: Table, ses: Any, clock: Clock) -> Notifier:
    return Notifier(
        DynamoOutboxClaims(table, Channel.MAIL),
        DynamoDirectoryRepository(table),
        SesMailer(ses, f"support@{DOMAIN}"),
        DOMAIN,
        clock=clock,
        links=DynamoActionLinks(table, clock),
        app_url="http://127.0.0.1:3000",
    )


def sent_mail() -> list[Message]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        message_from_bytes(m.raw_data.encode(), policy=policy.default)
        for m in backend.sent_messages
    ]


def stored_outbox(table: Table, number: int) -> list[dict[str, Any]]:
    """The ticket's outbox items, oldest first, with their delivery state (raw items)."""
    return outbox_items(table.client, number)


def outbox_keys(table: Table, number: int) -> Iterator[tuple[str, str]]:
    for item in stored_outbox(table, number):
        yield item["pk"], item["sk"]


def acknowledgement_key(table: Table, number: int) -> tuple[str, str]:
    """The requester's acknowledgement (a new ticket also tells its level's consultants)."""
    [ack] = [i for i in stored_outbox(table, number) if i["kind"] == "created"]
    return ack["pk"], ack["sk"]


def delivery_of(table: Table, number: int, kind: str) -> str:
    [item] = [i for i in stored_outbox(table, number) if i["kind"] == kind]
    return str(item["delivery"])


def new_ticket(service: HelpdeskService) -> Ticket:
    return service.create_ticket(
        CLIENT, title="Imprimante bloquée", description="", type=TicketType.ASSISTANCE
    )


def test_acknowledgement_is_sent_once_with_threading_headers(
    service: HelpdeskService, table: Table, notifier: Notifier
) -> None:
    ticket = new_ticket(service)
    pk, sk = acknowledgement_key(table, ticket.number)
    outcomes = [notifier.deliver(pk, sk).outcome for _ in range(3)]
    assert outcomes == ["sent", "already_sent", "already_sent"]
    [mail] = sent_mail()
    assert mail["To"] == CLIENT.email
    assert mail["Subject"] == f"[#{ticket.number}] Demande reçue : Imprimante bloquée"
    assert mail["Auto-Submitted"] == "auto-generated"
    # A ticket no mail created: its acknowledgement is the root of its thread (DESIGN.md §8).
    message_id = mail["Message-ID"]
    created = int(ticket.created_at.timestamp())
    assert message_id == f"<ticket-{ticket.number}-{created}@{DOMAIN}>"
    assert mail["In-Reply-To"] is None and mail["References"] is None
    record = table.get(keys.message_id_key(message_id))
    assert record is not None and int(record["ticket_number"]) == ticket.number
    assert delivery_of(table, ticket.number, "created") == "sent"


def test_each_client_facing_change_queues_its_message(
    service: HelpdeskService, table: Table
) -> None:
    ticket = new_ticket(service)
    for action, params in (
        (Action.TAKE, ActionInput()),
        (Action.START, ActionInput()),
        (Action.SEND_ANSWER, ActionInput(message="Redémarrez le spouleur.")),
        (Action.CONFIRM, ActionInput()),
    ):
        caller = CLIENT if action is Action.CONFIRM else L1
        service.perform(caller, ticket.number, action, params)
    outbox = stored_outbox(table, ticket.number)
    assert [m["kind"] for m in outbox] == [
        "created",
        "staff_new_ticket",  # the level's consultants (DESIGN.md §8)
        "taken",
        "answer_sent",
        "closed",
    ]
    answer = outbox[3]
    assert "Redémarrez le spouleur." in answer["body"]
    assert "{{link:confirm}}" in answer["body"] and "{{link:reopen}}" in answer["body"]
    assert [link["action"] for link in answer["links"]] == ["confirm", "reopen"]


def test_each_mail_of_a_ticket_is_stored_in_less_than_1_kb(
    service: HelpdeskService, table: Table
) -> None:
    # Every write of an outbox item (queued in a transaction: twice; claimed; marked sent)
    # bills 1 KB units: the mails of an ordinary ticket take one each (issue #21).
    ticket = new_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.perform(L1, ticket.number, Action.START, ActionInput())
    answer = "Redémarrez le spouleur d'impression puis relancez le document. " * 3
    service.perform(L1, ticket.number, Action.SEND_ANSWER, ActionInput(message=answer))
    reply = table.client.query(
        TableName=table.name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={
            ":pk": {"S": keys.ticket_pk(ticket.number)},
            ":outbox": {"S": "OUTBOX#"},
        },
    )
    sizes = {i["kind"]["S"]: item_size(i) for i in reply["Items"]}
    assert set(sizes) == {"created", "staff_new_ticket", "taken", "answer_sent"}
    assert all(size < 1024 for size in sizes.values()), sizes


def test_a_failed_send_is_released_and_retried(
    service: HelpdeskService,
    table: Table,
    notifier: Notifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = new_ticket(service)
    pk, sk = acknowledgement_key(table, ticket.number)

    def unavailable(to: str, raw: bytes) -> None:
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(notifier.mailer, "send", unavailable)
    with pytest.raises(ConnectionError):
        notifier.deliver(pk, sk)
    assert delivery_of(table, ticket.number, "created") == "pending"
    monkeypatch.undo()
    assert notifier.deliver(pk, sk).outcome == "sent"
    assert len(sent_mail()) == 1


def test_a_run_that_died_mid_send_is_taken_over_after_its_lease(
    service: HelpdeskService, table: Table, notifier: Notifier, clock: Clock
) -> None:
    ticket = new_ticket(service)
    pk, sk = acknowledgement_key(table, ticket.number)
    assert notifier.claims.claim({"pk": pk, "sk": sk}, clock.now) is not None  # then the run died
    with pytest.raises(DeliveryInProgress):
        notifier.deliver(pk, sk)
    clock.advance(minutes=2)
    assert notifier.deliver(pk, sk).outcome == "sent"
    assert len(sent_mail()) == 1


def test_stream_event_delivered_three_times_sends_one_mail(
    service: HelpdeskService,
    table: Table,
    notifier: Notifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier_app = load_function("notifier")
    monkeypatch.setattr(bootstrap, "notifier", lambda: notifier)
    ticket = new_ticket(service)
    event = {"Records": stream_records()}
    assert len(event["Records"]) == 2  # the acknowledgement, the level's consultants
    for _ in range(3):
        assert notifier_app.lambda_handler(event, _context()) == {"batchItemFailures": []}
    assert sorted(m["Subject"] for m in sent_mail()) == [
        f"[#{ticket.number}] Demande reçue : Imprimante bloquée",
        f"[#{ticket.number}] Nouvelle demande : Imprimante bloquée",
    ]


def test_a_failed_record_is_reported_by_sequence_number_and_the_others_delivered(
    service: HelpdeskService,
    table: Table,
    notifier: Notifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier_app = load_function("notifier")
    monkeypatch.setattr(bootstrap, "notifier", lambda: notifier)
    first, second = new_ticket(service), new_ticket(service)
    records = stream_records()
    assert len(records) == 4  # each ticket: its acknowledgement, its level's consultants
    real_deliver = notifier.deliver

    def deliver(pk: str, sk: str) -> Any:
        if pk == keys.ticket_pk(first.number):
            raise ConnectionError("SES unavailable")
        return real_deliver(pk, sk)

    monkeypatch.setattr(notifier, "deliver", deliver)
    reply = notifier_app.lambda_handler({"Records": records}, _context())
    failed = [
        r for r in records if r["dynamodb"]["NewImage"]["pk"]["S"] == keys.ticket_pk(first.number)
    ]
    assert reply == {
        "batchItemFailures": [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in failed
        ]
    }
    assert sorted(m["Subject"] for m in sent_mail()) == [
        f"[#{second.number}] Demande reçue : Imprimante bloquée",
        f"[#{second.number}] Nouvelle demande : Imprimante bloquée",
    ]
    monkeypatch.setattr(notifier, "deliver", real_deliver)  # the retry delivers them, once
    assert notifier_app.lambda_handler({"Records": records}, _context()) == {
        "batchItemFailures": []
    }
    assert len(sent_mail()) == 4


def test_records_that_are_not_outbox_inserts_are_ignored(
    notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier_app = load_function("notifier")
    monkeypatch.setattr(bootstrap, "notifier", lambda: notifier)
    others = [
        {"dynamodb": {"SequenceNumber": "1", "NewImage": {"entity": {"S": "ticket"}}}},
        {"dynamodb": {"SequenceNumber": "2"}},
        {"eventName": "REMOVE"},
    ]
    assert notifier_app.lambda_handler({"Records": others}, _context()) == {"batchItemFailures": []}
    assert sent_mail() == []


def test_reminder_and_auto_closure_reach_the_client(
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    table: Table,
    notifier: Notifier,
    clock: Clock,
) -> None:
    from helpdesk.jobs import AutoCloseJob

    ticket = new_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.perform(L1, ticket.number, Action.START, ActionInput())
    answered = service.perform(L1, ticket.number, Action.SEND_ANSWER, ActionInput(message="ok"))
    due = answered.ticket.auto_close_at
    assert due is not None
    AutoCloseJob(uow).run(due - timedelta(hours=12))
    AutoCloseJob(uow).run(due)
    for pk, sk in outbox_keys(table, ticket.number):
        notifier.deliver(pk, sk)
    subjects = [m["Subject"].split("] ")[1] for m in sent_mail() if m["To"] == CLIENT.email]
    assert subjects == [
        "Demande reçue : Imprimante bloquée",
        "Demande prise en charge : Imprimante bloquée",
        "Réponse à votre demande : Imprimante bloquée",
        "Fermeture prochaine : Imprimante bloquée",
        "Demande fermée : Imprimante bloquée",
    ]
    # One thread: every later mail, to the client and to staff, refers to the acknowledgement.
    mails = sent_mail()
    root = f"<ticket-{ticket.number}-{int(ticket.created_at.timestamp())}@{DOMAIN}>"
    assert mails[0]["Message-ID"] == root
    assert [m["In-Reply-To"] for m in mails[1:]] == [root] * (len(mails) - 1)
    assert [m["References"] for m in mails[1:]] == [root] * (len(mails) - 1)
    assert len({m["Message-ID"] for m in mails}) == len(mails)
    # The answer's links were issued at the send and placed in both parts.
    [answer] = [m for m in mails if "Réponse à votre demande" in m["Subject"]]
    assert isinstance(answer, EmailMessage)
    for part in ("plain", "html"):
        body = answer.get_body(preferencelist=(part,))
        assert body is not None
        content = body.get_content()
        assert content.count("http://127.0.0.1:3000/app/l/") == 2 and "{{" not in content


def stream_records() -> list[dict[str, Any]]:
    """The table's stream, filtered as the template's event source mapping filters it."""
    return [r for r in moto_streams.stream_records(TABLE_NAME, REGION) if matches_outbox_filter(r)]


def _context() -> Any:
    class Context:
        function_name = "notifier"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:notifier"
        aws_request_id = "req-1"

    return Context()
