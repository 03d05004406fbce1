"""The outbox: messages committed with each change, sent once each through SES."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from helpdesk import bootstrap
from helpdesk.adapters.dynamodb import keys
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


def new_ticket(service: HelpdeskService) -> Ticket:
    return service.create_ticket(
        CLIENT, title="Imprimante bloquée", description="", type=TicketType.ASSISTANCE
    )


def test_acknowledgement_is_sent_once_with_threading_headers(
    service: HelpdeskService, table: Table, notifier: Notifier
) -> None:
    ticket = new_ticket(service)
    [(pk, sk)] = list(outbox_keys(table, ticket.number))
    outcomes = [notifier.deliver(pk, sk).outcome for _ in range(3)]
    assert outcomes == ["sent", "already_sent", "already_sent"]
    [mail] = sent_mail()
    assert mail["To"] == CLIENT.email
    assert mail["Subject"] == f"[#{ticket.number}] Demande reçue : Imprimante bloquée"
    assert mail["Auto-Submitted"] == "auto-generated"
    message_id = mail["Message-ID"]
    assert message_id.endswith(f"@{DOMAIN}>")
    record = table.get(keys.message_id_key(message_id))
    assert record is not None and int(record["ticket_number"]) == ticket.number
    assert stored_outbox(table, ticket.number)[0]["delivery"] == "sent"


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
    assert [m["kind"] for m in outbox] == ["created", "taken", "answer_sent", "closed"]
    answer = outbox[2]["body"]
    assert "Redémarrez le spouleur." in answer and "confirm" in answer and "reopen" in answer


def test_a_failed_send_is_released_and_retried(
    service: HelpdeskService,
    table: Table,
    notifier: Notifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = new_ticket(service)
    [(pk, sk)] = list(outbox_keys(table, ticket.number))

    def unavailable(to: str, raw: bytes) -> None:
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(notifier.mailer, "send", unavailable)
    with pytest.raises(ConnectionError):
        notifier.deliver(pk, sk)
    assert stored_outbox(table, ticket.number)[0]["delivery"] == "pending"
    monkeypatch.undo()
    assert notifier.deliver(pk, sk).outcome == "sent"
    assert len(sent_mail()) == 1


def test_a_run_that_died_mid_send_is_taken_over_after_its_lease(
    service: HelpdeskService, table: Table, notifier: Notifier, clock: Clock
) -> None:
    ticket = new_ticket(service)
    [(pk, sk)] = list(outbox_keys(table, ticket.number))
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
    assert len(event["Records"]) == 1
    for _ in range(3):
        assert notifier_app.lambda_handler(event, _context()) == {"batchItemFailures": []}
    assert [m["Subject"] for m in sent_mail()] == [
        f"[#{ticket.number}] Demande reçue : Imprimante bloquée"
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
    assert len(records) == 2
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
        "batchItemFailures": [{"itemIdentifier": failed[0]["dynamodb"]["SequenceNumber"]}]
    }
    assert [m["Subject"] for m in sent_mail()] == [
        f"[#{second.number}] Demande reçue : Imprimante bloquée"
    ]
    monkeypatch.setattr(notifier, "deliver", real_deliver)  # the retry delivers it, once
    assert notifier_app.lambda_handler({"Records": records}, _context()) == {
        "batchItemFailures": []
    }
    assert len(sent_mail()) == 2


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
    subjects = [m["Subject"].split("] ")[1] for m in sent_mail()]
    assert subjects == [
        "Demande reçue : Imprimante bloquée",
        "Demande prise en charge : Imprimante bloquée",
        "Réponse à votre demande : Imprimante bloquée",
        "Fermeture prochaine : Imprimante bloquée",
        "Demande fermée : Imprimante bloquée",
    ]


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
