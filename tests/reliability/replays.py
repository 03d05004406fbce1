"""Replays: every asynchronous entry point fed the same event three times changes nothing more
than one delivery did.

Each entry point runs in-process against moto through its real Lambda handler, the handler
building its own clients from the environment (helpdesk.adapters.aws_clients), as in Lambda.
The state is snapshotted after the first delivery and after the third: every table item, every
S3 object version (key, ETag), every mail SES sent, every Step Functions execution and every
SendTaskSuccess call. Nothing is left out of the comparison: no field is volatile across
replays, because a replay that finds its work done writes nothing (no lease, no attempt count,
no timestamp). tests/integration/test_replays.py runs each entry point under pytest.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from functools import lru_cache
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from helpdesk import bootstrap
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table, marshal
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.adapters.stepfunctions import StepFunctionsQuoteApprovals
from helpdesk.changes import MailQueued
from helpdesk.domain.model import Caller, Role, Ticket, TicketType
from helpdesk.domain.notifications import LinkRequest, Notification, NotificationKind
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from infra import moto_streams
from infra.cfn_template import create_table_from_template, load_template
from infra.localstack.lambdas import FakeLambdaContext
from infra.moto_serial import serialise_moto_dynamodb
from tests.reliability import Figure, StackContext
from tests.support.aws import FAKE_AWS_ENVIRONMENT, REGION
from tests.support.functions import load_function

AREA = "replays"
DELIVERIES = 3
TABLE = "helpdesk-replays"
DOMAIN = "helpdesk.localhost"
EXPORTS_BUCKET = "helpdesk-replays-exports"
INBOUND_BUCKET = "helpdesk-replays-inbound"
ATTACHMENTS_BUCKET = "helpdesk-replays-attachments"
MACHINE = "helpdesk-replays-quote-approval"

MANAGER = Caller(id="manager-1", role=Role.MANAGER, email="boss@consult.example")
L1 = Caller(id="cons-l1", role=Role.CONSULTANT, level=1, email="l1@consult.example")
L2 = Caller(id="cons-l2", role=Role.CONSULTANT, level=2, email="l2@consult.example")
CLIENT = Caller(id="client-acme", role=Role.CLIENT, org_id="acme", email="fabrice@acme.example")

ENVIRONMENT = {
    **FAKE_AWS_ENVIRONMENT,
    "TABLE_NAME": TABLE,
    "MAIL_DOMAIN": DOMAIN,
    "EXPORTS_BUCKET": EXPORTS_BUCKET,
    "INBOUND_BUCKET": INBOUND_BUCKET,
    "INBOUND_PREFIX": "inbound/",
    "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
    "APP_URL": "http://127.0.0.1:3000",
}
# Set by the surroundings and pointing elsewhere than moto's in-process mock.
FOREIGN = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")
FUNCTIONS = ("jobs", "notifier", "quote", "mail_ingest")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """One moto account: the table, the buckets, SES, a state machine, a seeded service."""

    clock: Clock
    service: HelpdeskService
    machine_arn: str
    task_successes: list[str] = field(default_factory=list)

    @property
    def table(self) -> Table:
        uow = self.service.uow
        assert isinstance(uow, DynamoUnitOfWork), uow
        return uow.table


@contextmanager
def handler_environment(extra: dict[str, str] | None = None) -> Iterator[None]:
    """The functions' environment variables, restored afterwards, and their cached clients
    dropped before and after (they belong to one mock)."""
    saved = dict(os.environ)
    try:
        for name in FOREIGN:
            os.environ.pop(name, None)
        os.environ.update({**ENVIRONMENT, **(extra or {})})
        forget_clients()
        yield
    finally:
        forget_clients()
        os.environ.clear()
        os.environ.update(saved)


def forget_clients() -> None:
    get_settings.cache_clear()
    # The composition roots' objects (helpdesk.bootstrap, bootstrap_billing...) and each
    # function's own.
    roots = [m for name, m in sorted(sys.modules.items()) if name.startswith("helpdesk.bootstrap")]
    for module in (*roots, *(load_function(name) for name in FUNCTIONS)):
        for attribute in vars(module).values():
            if callable(getattr(attribute, "cache_clear", None)):
                attribute.cache_clear()


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    return load_template()


@contextmanager
def world() -> Iterator[World]:
    serialise_moto_dynamodb()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(dynamodb, _template(), "TicketsTable", TABLE)
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (EXPORTS_BUCKET, INBOUND_BUCKET, ATTACHMENTS_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        s3.put_bucket_versioning(
            Bucket=EXPORTS_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=DOMAIN)
        machine_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=MACHINE,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/quote-approval",
        )["stateMachineArn"]
        clock = Clock(datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
        # Sequential ids: two worlds built alike hold the same items (tests/reliability/faults.py
        # compares a disturbed run with an undisturbed one).
        numbers = itertools.count(1)
        service = HelpdeskService(
            DynamoUnitOfWork(Table(dynamodb, TABLE)),
            clock=clock,
            ids=lambda: f"id-{next(numbers):06d}",
        )
        service.put_org(
            MANAGER,
            "acme",
            name="Acme",
            email_domains=["acme.example"],
            auto_close_days=7,
            hourly_rate="90.00",
        )
        for consultant in (L1, L2):
            assert consultant.level is not None
            service.put_consultant(
                MANAGER,
                consultant.id,
                name=consultant.id,
                email=consultant.email,
                level=consultant.level,
            )
        with handler_environment({"QUOTE_STATE_MACHINE_ARN": machine_arn}):
            yield World(clock, service, machine_arn)


# ------------------------------------------------------------------ state snapshot
def snapshot(world: World) -> dict[str, list[str]]:
    """Everything an entry point can change, each part as a sorted list of JSON lines."""
    return {
        "table": sorted(_json(item) for item in _items(world.table)),
        "s3": sorted(_json(v) for v in _object_versions()),
        "ses": sorted(m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages),
        "sfn": sorted(_json(e) for e in _executions(world.machine_arn)),
        "sfn-task-success": sorted(world.task_successes),
    }


def differences(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """`part: + line` / `part: - line` for each line in only one of the snapshots."""
    found = []
    for part in before:
        old, new = set(before[part]), set(after[part])
        found += [f"{part}: - {line[:300]}" for line in sorted(old - new)]
        found += [f"{part}: + {line[:300]}" for line in sorted(new - old)]
        if len(before[part]) != len(after[part]):
            found.append(f"{part}: {len(before[part])} -> {len(after[part])} entries")
    return found


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _items(table: Table) -> Iterator[dict[str, Any]]:
    """Every item of the table, raw (a test's snapshot: the one Scan, never in production)."""
    paginator = table.client.get_paginator("scan")
    for page in paginator.paginate(TableName=table.name, ConsistentRead=True):
        yield from page["Items"]


def _object_versions() -> Iterator[dict[str, Any]]:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (EXPORTS_BUCKET, INBOUND_BUCKET, ATTACHMENTS_BUCKET):
        for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
            yield {"bucket": bucket, "key": version["Key"], "etag": version["ETag"]}


def _executions(machine_arn: str) -> Iterator[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for execution in sfn.list_executions(stateMachineArn=machine_arn)["executions"]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        yield {"name": execution["name"], "input": described.get("input")}


# ------------------------------------------------------------------ scenarios
Delivery = Callable[[], object]


def _evolution_awaiting_quote(world: World) -> Ticket:
    service = world.service
    ticket = service.create_ticket(
        CLIENT, title="Export comptable", description="", type=TicketType.EVOLUTION
    )
    service.perform(L2, ticket.number, Action.TAKE, ActionInput())
    service.perform(L2, ticket.number, Action.START, ActionInput())
    quote = ActionInput(amount=Decimal("900"), days=Decimal("3"), description="Développement")
    return service.perform(L2, ticket.number, Action.SUBMIT_QUOTE, quote).ticket


def answered_ticket(world: World, title: str) -> Ticket:
    service = world.service
    ticket = service.create_ticket(CLIENT, title=title, description="", type=TicketType.ASSISTANCE)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.perform(L1, ticket.number, Action.START, ActionInput())
    answer = ActionInput(message="Réinitialisé.")
    return service.perform(L1, ticket.number, Action.SEND_ANSWER, answer).ticket


def _invoke(function: str, event: dict[str, Any]) -> Delivery:
    module = load_function(function)
    return lambda: module.lambda_handler(event, FakeLambdaContext(function))


def _inbound_mail(world: World, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = CLIENT.email
    message["To"] = f"support@{DOMAIN}"
    message["Subject"] = "Imprimante bloquée"
    message["Message-ID"] = f"<{message_id}@acme.example>"
    message.set_content("Elle n'imprime plus depuis ce matin.")
    raw = message.as_bytes()
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=INBOUND_BUCKET, Key=f"inbound/{message_id}", Body=raw
    )
    return raw


def mail_from_ses(world: World) -> Delivery:
    _inbound_mail(world, "ses-1")
    ses = {"mail": {"messageId": "ses-1"}, "receipt": {"recipients": [f"support@{DOMAIN}"]}}
    return _invoke("mail_ingest", {"Records": [{"eventSource": "aws:ses", "ses": ses}]})


def mail_from_s3(world: World) -> Delivery:
    _inbound_mail(world, "s3-1")
    s3 = {"bucket": {"name": INBOUND_BUCKET}, "object": {"key": "inbound/s3-1"}}
    return _invoke("mail_ingest", {"Records": [{"eventSource": "aws:s3", "s3": s3}]})


def auto_close(world: World) -> Delivery:
    answered_ticket(world, "Mot de passe")  # due on the 12th: closed by the run
    world.clock.now += timedelta(days=6, hours=12)
    reminded = answered_ticket(world, "Compte bloqué")  # due the day after the run: reminded
    assert reminded.auto_close_at is not None
    at = reminded.auto_close_at - timedelta(hours=12)
    return _invoke("jobs", {"job": "auto-close", "at": at.isoformat()})


def task_rollover(world: World) -> Delivery:
    for title in ("Serveur lent", "Sauvegarde"):
        ticket = world.service.create_ticket(
            CLIENT, title=title, description="", type=TicketType.INCIDENT
        )
        world.service.perform(L2, ticket.number, Action.TAKE, ActionInput())
    return _invoke("jobs", {"job": "task-rollover", "at": "2026-10-31T23:05:00Z"})


def billing_export(world: World) -> Delivery:
    ticket = world.service.create_ticket(
        CLIENT, title="Paramétrage", description="", type=TicketType.ASSISTANCE
    )
    world.service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    # The world's clock opens the ticket on 5 October: time is logged from that day on.
    for day, minutes in ((date(2026, 10, 5), 45), (date(2026, 10, 5), 90)):
        world.service.log_time(
            L1, ticket.number, minutes=minutes, kind=TimeKind.REALISATION, day=day
        )
    return _invoke("jobs", {"job": "billing-export", "at": "2026-11-01T01:00:00Z"})


def quote_reminder(world: World) -> Delivery:
    ticket = _evolution_awaiting_quote(world)
    event = {"action": "remind", "ticket_number": ticket.number, "quote_version": 1, "reminder": 1}
    return _invoke("quote", event)


def quote_expiry(world: World) -> Delivery:
    ticket = _evolution_awaiting_quote(world)
    event = {"action": "expire", "ticket_number": ticket.number, "quote_version": 1}
    return _invoke("quote", event)


def _outbox_record(world: World, kind: str) -> dict[str, Any]:
    """The last stream record of an outbox insert of this kind, as the filter passes it."""
    records = [
        r
        for r in moto_streams.stream_records(TABLE, REGION)
        if moto_streams.matches_outbox_filter(r) and r["dynamodb"]["NewImage"]["kind"]["S"] == kind
    ]
    return records[-1]


def _stream(world: World, *kinds: str) -> Delivery:
    notifier = load_function("notifier")
    approvals = bootstrap.workflow_commands().approvals
    assert isinstance(approvals, StepFunctionsQuoteApprovals), approvals
    sfn = approvals.client
    sfn.meta.events.register(
        "before-call.sfn.SendTaskSuccess",
        lambda params, **_: world.task_successes.append(_json(params)),
    )
    event = {"Records": [_outbox_record(world, kind) for kind in kinds]}
    return lambda: _no_failures(notifier.lambda_handler(event, FakeLambdaContext("notifier")))


def _no_failures(reply: dict[str, Any]) -> dict[str, Any]:
    if reply.get("batchItemFailures"):
        raise AssertionError(f"the notifier failed records: {reply}")
    return reply


def stream_mail(world: World) -> Delivery:
    answered_ticket(world, "Imprimante")
    return _stream(world, "created", "taken", "answer_sent")


EVERY_KIND_TICKET = 900  # outbox items only: the notifier needs no ticket item to send


def every_kind_mails(number: int = EVERY_KIND_TICKET) -> list[MailQueued]:
    """One mail of every NotificationKind (to the client, to a consultant, to a level, in
    turn), then a mail with two action links and a mail to a level with a `ref`."""
    recipients: list[dict[str, Any]] = [
        {"to": CLIENT.email},
        {"to": "", "to_consultant": L2.id},
        {"to": "", "to_level": 1},
    ]
    at = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    seed = f"ticket-{number}-{int(at.timestamp())}"
    mails = [
        Notification(
            kind,
            number,
            subject=f"[#{number}] {kind.value} : Écran figé",
            body=f"{kind.value}\n{{{{app}}}}/app/tickets/{number}\n",
            html=f"<p>{kind.value}</p>",
            thread_seed=seed,
            **recipients[index % len(recipients)],
        )
        for index, kind in enumerate(NotificationKind)
    ]
    mails.append(
        Notification(
            NotificationKind.QUOTE_SUBMITTED,
            number,
            CLIENT.email,
            f"[#{number}] Chiffrage à valider : Écran figé",
            "Accepter : {{link:approve-quote}}\nRefuser : {{link:refuse-quote}}\n",
            html='<a href="{{link:approve-quote}}">oui</a> <a href="{{link:refuse-quote}}">non</a>',
            links=(
                LinkRequest("approve-quote", quote_version=1),
                LinkRequest("refuse-quote", quote_version=1),
            ),
            thread="<first@acme.example>",
        )
    )
    mails.append(
        Notification(
            NotificationKind.CREATED,
            number,
            "",
            f"[#{number}] Nouvelle demande : Écran figé",
            "{{app}}/app/tickets/900\n",
            to_level=2,
            ref="staff",
            thread_seed=seed,
        )
    )
    return [
        MailQueued(mail, 2 if i >= len(NotificationKind) else 1, at) for i, mail in enumerate(mails)
    ]


def stream_mail_every_kind(world: World) -> Delivery:
    """The stream's records of one mail of every kind, in batches of 10 (the template's)."""
    uow = world.service.uow
    for change in every_kind_mails():
        uow.add(change)
    uow.commit()
    records = [
        r
        for r in moto_streams.stream_records(TABLE, REGION)
        if moto_streams.matches_outbox_filter(r)
        and r["dynamodb"]["NewImage"]["pk"]["S"] == keys.ticket_pk(EVERY_KIND_TICKET)
    ]
    notifier = load_function("notifier")

    def deliver() -> None:
        for start in range(0, len(records), 10):
            event = {"Records": records[start : start + 10]}
            _no_failures(notifier.lambda_handler(event, FakeLambdaContext("notifier")))

    return deliver


def stream_workflow_start(world: World) -> Delivery:
    _evolution_awaiting_quote(world)
    return _stream(world, "quote_approval_start")


def stream_workflow_decision(world: World) -> Delivery:
    ticket = _evolution_awaiting_quote(world)
    # What the execution's StoreToken step writes while it waits for the client.
    world.table.client.update_item(
        TableName=TABLE,
        Key=marshal(keys.ticket_key(ticket.number)),
        UpdateExpression="SET quote_task_token = :token, quote_task_version = :version",
        ExpressionAttributeValues=marshal({":token": "token-1", ":version": 1}),
    )
    world.service.perform(CLIENT, ticket.number, Action.APPROVE_QUOTE, ActionInput())
    return _stream(world, "quote_approval_decision")


ENTRY_POINTS: dict[str, Callable[[World], Delivery]] = {
    "mail-ingest (SES receipt)": mail_from_ses,
    "mail-ingest (S3 notification)": mail_from_s3,
    "schedule auto-close": auto_close,
    "schedule task-rollover": task_rollover,
    "schedule billing-export": billing_export,
    "step remind": quote_reminder,
    "step expire": quote_expiry,
    "stream mail send": stream_mail,
    "stream mail send (every kind)": stream_mail_every_kind,
    "stream workflow start": stream_workflow_start,
    "stream workflow decision": stream_workflow_decision,
}


@dataclass(frozen=True)
class Replay:
    entry_point: str
    deliveries: int
    first_changes: int  # lines the first delivery added or changed: it did something
    differences: list[str]


def replay(entry_point: str, deliveries: int = DELIVERIES) -> Replay:
    """Prepare the entry point's state, deliver its event `deliveries` times, compare."""
    with world() as w:
        deliver = ENTRY_POINTS[entry_point](w)
        before = snapshot(w)
        deliver()
        first = snapshot(w)
        for _ in range(deliveries - 1):
            deliver()
        last = snapshot(w)
    return Replay(
        entry_point, deliveries, len(differences(before, first)), differences(first, last)
    )


def measure(
    context: StackContext | None = None, names: tuple[str, ...] = tuple(ENTRY_POINTS)
) -> list[Figure]:
    """In-process against moto: the running stack (context) is not needed."""
    results = [replay(name) for name in names]
    figures = [
        Figure(AREA, "entry points replayed", len(results)),
        Figure(AREA, "deliveries of each event", DELIVERIES),
    ]
    for result in results:
        figures.append(
            Figure(
                AREA,
                f"differences after {result.deliveries} deliveries: {result.entry_point}",
                len(result.differences),
                ok=not result.differences and result.first_changes > 0,
                detail="; ".join(result.differences)[:200]
                or f"the first delivery made {result.first_changes} changes",
            )
        )
    return figures
