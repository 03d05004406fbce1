"""The evolution's quote approval: the committed state machine definition, run by moto.

Each test loads infra/statemachines/quote_approval.asl.json itself (its DefinitionSubstitutions
applied), with executions enabled and the QuoteFunction's handler run in-process
(infra.moto_lambda); the start command gives each execution its waits, with a day of
`Harness.day_seconds` seconds (an hour by default: no wait ends during a test that does not
want it; 1 s where a test watches reminders and expiry). The outbox (mail and workflow commands) is driven as the stream drives it:
the table's stream records, filtered like the template's event source mapping, handed to the
notifier function. Each test checks the ticket and how the execution ended.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from helpdesk import bootstrap
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.outbox import DynamoOutboxClaims
from helpdesk.adapters.dynamodb.repositories import (
    DynamoDirectoryRepository,
    DynamoTicketRepository,
)
from helpdesk.adapters.dynamodb.toolkit import Item, Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.adapters.ses import SesMailer
from helpdesk.adapters.stepfunctions import StepFunctionsQuoteApprovals
from helpdesk.domain.errors import ActionNotAllowed
from helpdesk.domain.model import SYSTEM, QuoteOutcome, Status, Ticket, TicketType
from helpdesk.domain.outbox import Channel
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.notifier import Notifier
from helpdesk.quote_approval import QuoteApprovalSteps
from helpdesk.service import HelpdeskService
from helpdesk.workflow_commands import WorkflowCommands, execution_name
from infra import moto_lambda, moto_streams
from infra.cfn_template import create_table_from_template, load_template
from infra.localstack.lambdas import FakeLambdaContext
from infra.moto_serial import serialise_moto_dynamodb
from infra.state_machines import (
    QUOTE_APPROVAL_ASL,
    QUOTE_END_STATES,
    create_quote_approval,
    execution_summary,
    load_definition,
    substitute,
    template_substitution_names,
)
from tests.conftest import CLIENT, L2, MANAGER, REGION, TABLE_NAME, Clock
from tests.integration.store_support import outbox_items
from tests.support.functions import load_function

DOMAIN = "helpdesk.localhost"
FUNCTION = "helpdesk-test-quote"
LONG_DAY = 3600  # seconds in a day: no wait ends during a test that does not want it


@pytest.fixture
def dynamodb(template: dict[str, Any]) -> Iterator[Any]:
    """The conftest table, in a moto that really runs state machine executions."""
    serialise_moto_dynamodb()
    moto_lambda.install()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE_NAME)
        boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=DOMAIN)
        yield client


class Harness:
    """The stack around the service: the machine, the QuoteFunction, the stream-driven notifier."""

    def __init__(
        self, service: HelpdeskService, table: Table, clock: Clock, mp: pytest.MonkeyPatch
    ) -> None:
        self.service = service
        self.table = table
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.machine_arn = ""
        self.day_seconds = LONG_DAY
        self.position = 0
        self.results: list[dict[str, Any]] = []
        quote_app = load_function("quote")
        mp.setattr(quote_app, "default_steps", lambda: QuoteApprovalSteps(service))
        moto_lambda.register(
            FUNCTION, lambda event: quote_app.lambda_handler(event, FakeLambdaContext(FUNCTION))
        )
        self.notifier_app = load_function("notifier")
        ses = boto3.client("sesv2", region_name=REGION)
        notifier = Notifier(
            DynamoOutboxClaims(table, Channel.MAIL),
            DynamoDirectoryRepository(table),
            SesMailer(ses, f"support@{DOMAIN}"),
            DOMAIN,
            clock=clock,
            links=DynamoActionLinks(table, clock=clock),  # the quote mails' approve/refuse links
            app_url="http://app.test",
        )
        mp.setattr(bootstrap, "notifier", lambda: notifier)
        mp.setattr(bootstrap, "workflow_commands", lambda: self.commands)

    @property
    def commands(self) -> WorkflowCommands:
        return WorkflowCommands(
            DynamoOutboxClaims(self.table, Channel.WORKFLOW),
            DynamoTicketRepository(self.table),
            StepFunctionsQuoteApprovals(self.sfn, self.machine_arn),
            day_seconds=self.day_seconds,
        )

    def create_machine(self, day_seconds: int = LONG_DAY) -> None:
        self.day_seconds = day_seconds
        self.machine_arn, _ = create_quote_approval(
            boto3.session.Session(), REGION, table_name=TABLE_NAME, function_name=FUNCTION
        )

    def pump(self, replay: bool = False) -> int:
        """Hand the new outbox records (all of them again if `replay`) to the notifier."""
        start = 0 if replay else self.position
        records = moto_streams.stream_records(TABLE_NAME, REGION, after=start)
        self.position = start + len(records)
        records = [r for r in records if moto_streams.matches_outbox_filter(r)]
        if records:
            reply = self.notifier_app.lambda_handler({"Records": records}, FakeLambdaContext("n"))
            assert reply == {"batchItemFailures": []}
        return len(records)

    def execution_arn(self, number: int, version: int) -> str:
        name = execution_name(number, version)
        return self.machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def summary(self, number: int, version: int) -> dict[str, Any]:
        return execution_summary(self.sfn, self.execution_arn(number, version))

    def wait(
        self, number: int, version: int, until: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            summary = self.summary(number, version)
            if until(summary) or time.monotonic() > deadline:
                return summary
            time.sleep(0.05)

    def wait_for_decision(self, number: int, version: int) -> dict[str, Any]:
        """The execution stored its token on the ticket and waits for the client."""
        summary = self.wait(number, version, lambda s: s["waiting_for_callback"], 10)
        assert summary["waiting_for_callback"], summary
        return summary

    def wait_for_end(self, number: int, version: int, timeout: float = 15) -> dict[str, Any]:
        summary = self.wait(number, version, lambda s: s["status"] != "RUNNING", timeout)
        assert summary["status"] != "RUNNING", summary
        return summary

    def outbox(self, number: int, channel: str) -> list[dict[str, Any]]:
        items = outbox_items(self.table.client, number)
        return [i for i in items if i.get("channel", "mail") == channel]

    def ticket_item(self, number: int) -> Item | None:
        """The stored ticket item, raw (what the state machine's StoreToken step writes)."""
        return self.table.get(keys.ticket_key(number))


@pytest.fixture
def harness(
    service: HelpdeskService, table: Table, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    yield Harness(service, table, clock, monkeypatch)
    moto_lambda.unregister(FUNCTION)


def sent_mail() -> list[dict[str, str]]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    mails = []
    for sent in backend.sent_messages:
        message = message_from_bytes(sent.raw_data.encode(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        mails.append(
            {
                "to": str(message["To"]),
                "subject": str(message["Subject"]),
                "body": body.get_content() if body is not None else "",
            }
        )
    return mails


def evolution_in_progress(service: HelpdeskService) -> Ticket:
    ticket = service.create_ticket(
        CLIENT,
        title="Export comptable",
        description="Un export mensuel.",
        type=TicketType.EVOLUTION,
    )
    service.perform(L2, ticket.number, Action.TAKE, ActionInput())
    service.perform(L2, ticket.number, Action.START, ActionInput())
    return service.uow.tickets.get(ticket.number)


def submit(
    service: HelpdeskService, number: int, amount: str, validity_days: int | None = None
) -> Ticket:
    params = ActionInput(
        amount=Decimal(amount),
        days=Decimal("3"),
        description="Développement",
        validity_days=validity_days,
    )
    return service.perform(L2, number, Action.SUBMIT_QUOTE, params).ticket


def approve(service: HelpdeskService, number: int) -> Ticket:
    return service.perform(CLIENT, number, Action.APPROVE_QUOTE, ActionInput()).ticket


def refuse(service: HelpdeskService, number: int, reason: str) -> Ticket:
    return service.perform(CLIENT, number, Action.REFUSE_QUOTE, ActionInput(reason=reason)).ticket


def actions(uow: DynamoUnitOfWork, number: int) -> list[str]:
    return [e.action for e in uow.tickets.history(number)]


# ------------------------------------------------------------------ definition
def test_committed_definition_takes_exactly_the_template_substitutions(
    template: dict[str, Any],
) -> None:
    text = QUOTE_APPROVAL_ASL.read_text(encoding="utf-8")
    names = {"TableName", "QuoteFunctionArn"}
    assert template_substitution_names(load_template(), "QuoteApprovalStateMachine") == names
    substitute(text, dict.fromkeys(names, "1"))  # nothing else is named
    definition = load_definition(
        QUOTE_APPROVAL_ASL, {"TableName": "t", "QuoteFunctionArn": "arn:f"}
    )
    states = definition["States"]
    store_token = states["StoreToken"]
    assert store_token["Resource"] == (
        "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
    )
    # Each wait is the execution's own (its input's `waits`), not a constant of the machine.
    assert "TimeoutSeconds" not in store_token
    assert store_token["TimeoutSecondsPath"] == "$.schedule.wait"
    assert "awaiting_quote_version = :version" in store_token["Parameters"]["ConditionExpression"]
    caught = {e for c in store_token["Catch"] for e in c["ErrorEquals"]}
    assert caught == {"DynamoDb.ConditionalCheckFailedException", "States.Timeout"}
    assert states["RemindOrExpire"]["Choices"] == [
        {
            "Variable": "$.schedule.index",
            "NumericLessThanPath": "$.schedule.count",
            "Next": "CountReminder",
        }
    ]
    assert {s for s, v in states.items() if v["Type"] in ("Succeed", "Fail")} == set(
        QUOTE_END_STATES
    )
    assert "QueryLanguage" not in definition  # JSONPath


def test_state_machine_iam_is_scoped_to_the_table_and_the_quote_function(
    template: dict[str, Any],
) -> None:
    props = template["Resources"]["QuoteApprovalStateMachine"]["Properties"]
    assert props["Type"] == "STANDARD"
    assert props["DefinitionUri"] == "infra/statemachines/quote_approval.asl.json"
    [statements, invoke] = props["Policies"]
    for statement in statements["Statement"]:
        assert statement["Action"] == ["dynamodb:UpdateItem"]
        assert statement["Resource"] == {"Fn::GetAtt": ["TicketsTable", "Arn"]}
    assert invoke == {"LambdaInvokePolicy": {"FunctionName": {"Ref": "QuoteFunction"}}}
    notifier = template["Resources"]["NotifierFunction"]["Properties"]
    env = notifier["Environment"]["Variables"]
    assert env["QUOTE_STATE_MACHINE_ARN"] == {"Ref": "QuoteApprovalStateMachine"}
    # The notifier starts the executions: it computes their waits with a day of this length.
    assert env["QUOTE_DAY_SECONDS"] == {"Ref": "QuoteDaySeconds"}
    assert template["Parameters"]["QuoteDaySeconds"]["Default"] == 86400
    states_actions = {
        action: statement["Resource"]
        for statement in notifier["Policies"][0]["Statement"]
        for action in statement["Action"]
        if action.startswith("states:")
    }
    machine = {"Ref": "QuoteApprovalStateMachine"}
    assert states_actions == {
        "states:StartExecution": machine,
        "states:SendTaskSuccess": machine,
        "states:SendTaskFailure": machine,
    }


# ------------------------------------------------------------------ scenarios
def test_approve(harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork) -> None:
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "1200.00")
    harness.pump()  # starts ticket-<n>-quote-1
    harness.wait_for_decision(number, 1)
    stored = harness.ticket_item(number)
    assert stored is not None
    assert stored["awaiting_quote_version"] == 1 and stored["quote_task_version"] == 1
    assert stored["quote_task_token"]

    approved = approve(service, number)
    harness.pump()  # the decision command resumes the execution
    assert harness.wait_for_end(number, 1) == {
        "name": f"ticket-{number}-quote-1",
        "status": "SUCCEEDED",
        "state": "Approved",
        "waiting_for_callback": False,
    }
    ticket = uow.tickets.get(number)
    assert ticket.status is Status.IN_REALISATION == approved.status
    assert [(q.version, q.outcome) for q in ticket.quotes] == [(1, QuoteOutcome.APPROVED)]
    assert ticket.approved_quote is not None and ticket.approved_quote.amount == Decimal("1200.00")
    assert "awaiting_quote_version" not in (harness.ticket_item(number) or {})
    assert actions(uow, number)[-2:] == ["submit-quote", "approve-quote"]
    assert [c["result"] for c in harness.outbox(number, "workflow")] == ["started", "resumed"]
    mails = [(m["to"], m["subject"].split("] ")[1].split(" : ")[0]) for m in sent_mail()]
    assert (CLIENT.email, "Chiffrage à valider") in mails
    assert (L2.email, "Chiffrage accepté") in mails  # the assignee: realisation starts


def test_refuse_then_requote_then_approve(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "5000.00")
    harness.pump()
    harness.wait_for_decision(number, 1)
    refused = refuse(service, number, "Trop cher pour ce périmètre")
    assert refused.status is Status.IN_PROGRESS
    harness.pump()
    assert harness.wait_for_end(number, 1)["state"] == "Refused"

    submit(service, number, "3200.50")
    harness.pump()
    harness.wait_for_decision(number, 2)
    approve(service, number)
    harness.pump()
    end = harness.wait_for_end(number, 2)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "Approved")

    ticket = uow.tickets.get(number)
    assert ticket.status is Status.IN_REALISATION
    assert [(q.version, q.amount, q.outcome, q.reason) for q in ticket.quotes] == [
        (1, Decimal("5000.00"), QuoteOutcome.REFUSED, "Trop cher pour ce périmètre"),
        (2, Decimal("3200.50"), QuoteOutcome.APPROVED, None),
    ]
    assert ticket.quote == ticket.approved_quote  # the billing basis: version 2
    assert actions(uow, number)[-4:] == [
        "submit-quote",
        "refuse-quote",
        "submit-quote",
        "approve-quote",
    ]
    # The assignee is told of the refusal, with the client's reason.
    assert any(
        m["to"] == L2.email and "Trop cher pour ce périmètre" in m["body"] for m in sent_mail()
    )


def entered(harness: Harness, number: int, version: int) -> list[tuple[str, float]]:
    """The states the execution entered, each with its seconds since the execution started."""
    events = harness.sfn.get_execution_history(
        executionArn=harness.execution_arn(number, version), maxResults=1000
    )["events"]
    started = events[0]["timestamp"]
    return [
        (e["stateEnteredEventDetails"]["name"], (e["timestamp"] - started).total_seconds())
        for e in events
        if "stateEnteredEventDetails" in e
    ]


def execution_input(harness: Harness, number: int, version: int) -> dict[str, Any]:
    described = harness.sfn.describe_execution(executionArn=harness.execution_arn(number, version))
    parsed: dict[str, Any] = json.loads(described["input"])
    return parsed


def at(states: list[tuple[str, float]], name: str) -> list[float]:
    return [seconds for state, seconds in states if state == name]


def waited(states: list[tuple[str, float]]) -> list[float]:
    """How long each StoreToken lasted before its timeout (the next state entered)."""
    return [
        states[i + 1][1] - seconds
        for i, (name, seconds) in enumerate(states[:-1])
        if name == "StoreToken" and states[i + 1][0] == "RemindOrExpire"
    ]


def assert_waited(states: list[tuple[str, float]], expected: list[int]) -> None:
    """Each wait lasted its seconds (never less; a little more while the executor works)."""
    measured = waited(states)
    assert len(measured) == len(expected), states
    for seconds, wait in zip(measured, expected, strict=True):
        assert wait <= seconds < wait + SLACK, states


SLACK = 3.0  # seconds the executor may take beyond a wait (Lambda tasks, serialised DynamoDB)


def test_reminders_and_expiry_follow_the_schedule(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    """DESIGN §8 with a day of 1 s. Acme's quotes are valid 9 days: waits 7 and 2, a reminder
    on day 7, expired on day 9. A quote submitted for 2 days: no reminder, expired on day 2. A
    quote of 8 days (waits 7, 1) that an operator expires meanwhile: on day 7 the execution
    finds the ticket moved on, reminds no one and ends."""
    service.put_org(
        MANAGER,
        "acme",
        name="Acme",
        email_domains=["acme.example"],
        auto_close_days=7,
        hourly_rate="90.00",
        quote_validity_days=9,
    )
    harness.create_machine(day_seconds=1)
    nine, two, eight = (evolution_in_progress(service).number for _ in range(3))
    assert submit(service, nine, "800.00").quote.validity_days == 9  # type: ignore[union-attr]
    assert submit(service, two, "300.00", validity_days=2).quote.validity_days == 2  # type: ignore[union-attr]
    submit(service, eight, "500.00", validity_days=8)
    harness.pump()  # starts the three executions
    assert execution_input(harness, nine, 1) == {
        "ticket_number": nine,
        "quote_version": 1,
        "validity_days": 9,
        "waits": [7, 2],
    }
    assert execution_input(harness, two, 1)["waits"] == [2]
    assert execution_input(harness, eight, 1)["waits"] == [7, 1]
    harness.wait_for_decision(eight, 1)
    service.perform(SYSTEM, eight, Action.EXPIRE_QUOTE, ActionInput(quote_version=1))

    for number in (two, nine, eight):
        end = harness.wait_for_end(number, 1, timeout=20)
        assert end["status"] == "SUCCEEDED", end
    assert harness.summary(nine, 1)["state"] == "Expired"
    assert harness.summary(two, 1)["state"] == "Expired"
    assert harness.summary(eight, 1)["state"] == "TicketMovedOn"

    # nine: one reminder after 7 days, the expiry after 9 (7 + 2), not before.
    states = entered(harness, nine, 1)
    assert_waited(states, [7, 2])
    assert len(at(states, "Remind")) == 1
    assert at(states, "Remind")[0] >= 7 and at(states, "Expire")[0] >= 9, states
    # two: no reminder, the expiry after 2 days.
    states = entered(harness, two, 1)
    assert_waited(states, [2])
    assert at(states, "Remind") == []
    assert at(states, "Expire")[0] >= 2, states
    # eight: its first wait ended on day 7, the ticket had moved on: nothing more.
    states = entered(harness, eight, 1)
    assert_waited(states, [7])
    assert [name for name, _ in states][-3:] == ["Remind", "StillAwaiting", "TicketMovedOn"]

    def reminders(number: int) -> list[str]:
        kinds = [m["kind"] for m in harness.outbox(number, "mail")]
        return sorted(k for k in kinds if k.startswith("quote_reminder"))

    assert reminders(nine) == ["quote_reminder_1"]
    assert reminders(two) == []
    assert reminders(eight) == []
    for number in (nine, two):
        ticket = uow.tickets.get(number)
        assert ticket.status is Status.IN_PROGRESS
        assert [(q.version, q.outcome) for q in ticket.quotes] == [(1, QuoteOutcome.EXPIRED)]
        assert ticket.approved_quote is None  # nothing to bill
        last = uow.tickets.history(number)[-1]
        assert (last.action, last.actor, last.to_status) == (
            "expire-quote",
            "system",
            Status.IN_PROGRESS,
        )
        kinds = {m["kind"] for m in harness.outbox(number, "mail")}
        assert {"assignee_quote_expired", "quote_expired"} <= kinds
        # No decision command: the machine decided the expiry itself.
        assert [c["kind"] for c in harness.outbox(number, "workflow")] == ["quote_approval_start"]
        # A new quote may follow; the abandoned evolution may be closed.
        assert "submit-quote" in service.allowed(ticket, L2)
    harness.pump()
    to_client = [m["subject"] for m in sent_mail() if m["to"] == CLIENT.email]

    def client_mails(number: int) -> int:
        return sum(subject.startswith(f"[#{number}]") for subject in to_client)

    # The same story but for nine's reminder: one mail more.
    assert client_mails(nine) == client_mails(two) + 1


def test_the_machine_reminds_after_each_wait_but_the_last(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    """The machine follows the waits of its input, whatever they are: three waits of 1 s are
    reminders 1 and 2, then the expiry (the schedule of a 15-day quote, 7 + 7 + 1, in short)."""
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "800.00", validity_days=15)
    approvals = StepFunctionsQuoteApprovals(harness.sfn, harness.machine_arn)
    assert approvals.start(execution_name(number, 1), number, 1, 15, [1, 1, 1])
    end = harness.wait_for_end(number, 1, timeout=20)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "Expired")
    states = entered(harness, number, 1)
    assert [name for name, _ in states] == [
        "Init",
        "StoreToken",
        "RemindOrExpire",
        "CountReminder",
        "Remind",
        "StillAwaiting",
        "StoreToken",
        "RemindOrExpire",
        "CountReminder",
        "Remind",
        "StillAwaiting",
        "StoreToken",
        "RemindOrExpire",
        "Expire",
        "ExpiredOrMovedOn",
        "Expired",
    ]
    assert_waited(states, [1, 1, 1])
    assert at(states, "Expire")[0] >= 3, states  # never before the sum of the waits
    kinds = [m["kind"] for m in harness.outbox(number, "mail")]
    assert sorted(k for k in kinds if k.startswith("quote_reminder")) == [
        "quote_reminder_1",
        "quote_reminder_2",
    ]
    assert uow.tickets.get(number).quotes[-1].outcome is QuoteOutcome.EXPIRED


def test_decision_before_the_token_is_stored(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "450.00")
    approve(service, number)  # before the start command even ran
    harness.pump()  # start, then the decision: no token for version 1 yet
    end = harness.wait_for_end(number, 1)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "TicketMovedOn")
    assert [(c["kind"], c["result"]) for c in harness.outbox(number, "workflow")] == [
        ("quote_approval_start", "started"),
        ("quote_approval_decision", "nothing_to_resume"),
    ]
    ticket = uow.tickets.get(number)
    assert ticket.status is Status.IN_REALISATION
    assert ticket.approved_quote is not None and ticket.approved_quote.amount == Decimal("450.00")
    assert "quote_task_token" not in (harness.ticket_item(number) or {})  # never stored


def test_duplicate_decision_changes_nothing(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "990.00")
    harness.pump()
    harness.wait_for_decision(number, 1)
    approve(service, number)
    harness.pump()
    assert harness.wait_for_end(number, 1)["state"] == "Approved"
    before = uow.tickets.get(number)
    mails_before = len(sent_mail())

    for again in (lambda: approve(service, number), lambda: refuse(service, number, "non")):
        with pytest.raises(ActionNotAllowed) as refused:  # 409 over HTTP
            again()
        assert "approve-quote" not in refused.value.allowed_actions
    assert harness.pump(replay=True) > 0  # every record delivered a second time
    assert uow.tickets.get(number) == before
    assert len(sent_mail()) == mails_before
    assert [c["result"] for c in harness.outbox(number, "workflow")] == ["started", "resumed"]
    assert harness.summary(number, 1)["state"] == "Approved"
    executions = harness.sfn.list_executions(stateMachineArn=harness.machine_arn)["executions"]
    assert len(executions) == 1  # the replayed start never starts a second one


def test_ticket_changed_elsewhere_ends_the_execution_cleanly(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    harness.create_machine(day_seconds=1)
    number = evolution_in_progress(service).number
    submit(service, number, "700.00")
    # The start command for version 1 is late: the client refused and a new quote followed,
    # valid 2 days (one wait, no reminder: 2 s here).
    refuse(service, number, "Délai trop long")
    submit(service, number, "650.00", validity_days=2)
    harness.pump()
    end = harness.wait_for_end(number, 1)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "TicketMovedOn")
    harness.wait_for_decision(number, 2)  # version 2's execution is the one waiting
    stored = harness.ticket_item(number) or {}
    assert (stored["awaiting_quote_version"], stored["quote_task_version"]) == (2, 2)

    # While version 2's execution waits, the ticket moves on by a path that resumes nothing
    # (an operator expiring the quote): at the end of its only wait the execution's expiry
    # finds the ticket no longer awaiting version 2, expires nothing more and ends.
    # (The reminder's path to TicketMovedOn: test_reminders_and_expiry_follow_the_schedule.)
    service.perform(SYSTEM, number, Action.EXPIRE_QUOTE, ActionInput(quote_version=2))
    end = harness.wait_for_end(number, 2)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "TicketMovedOn")
    states = [name for name, _ in entered(harness, number, 2)]
    assert states[-3:] == ["Expire", "ExpiredOrMovedOn", "TicketMovedOn"]
    kinds = [m["kind"] for m in harness.outbox(number, "mail")]
    assert not any(k.startswith("quote_reminder") for k in kinds)
    assert kinds.count("quote_expired") == 1  # the operator's expiry only
    ticket = uow.tickets.get(number)
    assert [(q.version, q.outcome) for q in ticket.quotes] == [
        (1, QuoteOutcome.REFUSED),
        (2, QuoteOutcome.EXPIRED),
    ]
    assert ticket.status is Status.IN_PROGRESS


def test_start_command_replayed_after_the_execution_ended_starts_nothing(
    harness: Harness, service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "100.00")
    approve(service, number)
    harness.pump()
    harness.wait_for_end(number, 1)
    [start, _decision] = harness.outbox(number, "workflow")
    # A lost mark-done: the command is pending again, as if the run died after StartExecution.
    harness.table.client.update_item(
        TableName=TABLE_NAME,
        Key={"pk": {"S": start["pk"]}, "sk": {"S": start["sk"]}},
        UpdateExpression="SET delivery = :pending",
        ExpressionAttributeValues={":pending": {"S": "pending"}},
    )
    assert harness.commands.execute(start["pk"], start["sk"]).outcome == "already_started"
    executions = harness.sfn.list_executions(stateMachineArn=harness.machine_arn)["executions"]
    assert [e["name"] for e in executions] == [f"ticket-{number}-quote-1"]
    assert json.loads(
        harness.sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"]
    ) == {
        "ticket_number": number,
        "quote_version": 1,
        "validity_days": 30,
        # acme's 30 days (its default) in days of LONG_DAY seconds: 7, 7, 7, 7, 2
        "waits": [25200, 25200, 25200, 25200, 7200],
    }


def test_withdraw_ends_the_execution_and_a_new_version_starts_its_own(
    harness: Harness,
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    http_api: Any,
) -> None:
    """DESIGN §7 "Correcting": the quote reads `withdrawn`, the execution ends `Withdrawn`, the
    client is told, and a corrected version may be submitted (its own execution)."""
    harness.create_machine()
    number = evolution_in_progress(service).number
    submit(service, number, "12000.00")  # a typo: 1200.00 was meant
    harness.pump()
    harness.wait_for_decision(number, 1)

    withdrawn = service.perform(
        L2, number, Action.WITHDRAW_QUOTE, ActionInput(reason="Montant erroné")
    ).ticket
    assert withdrawn.status is Status.IN_PROGRESS
    harness.pump()  # the decision command resumes the waiting execution
    assert harness.wait_for_end(number, 1) == {
        "name": f"ticket-{number}-quote-1",
        "status": "SUCCEEDED",
        "state": "Withdrawn",
        "waiting_for_callback": False,
    }
    assert [(c["kind"], c["result"]) for c in harness.outbox(number, "workflow")] == [
        ("quote_approval_start", "started"),
        ("quote_approval_decision", "resumed"),
    ]
    assert "awaiting_quote_version" not in (harness.ticket_item(number) or {})
    assert actions(uow, number)[-2:] == ["submit-quote", "withdraw-quote"]
    subjects = [(m["to"], m["subject"].split("] ")[1].split(" : ")[0]) for m in sent_mail()]
    assert (CLIENT.email, "Chiffrage retiré") in subjects

    # Over HTTP, GET /tickets/{n}/quotes reads the outcome `withdrawn`.
    reply = http_api.get(f"/tickets/{number}/quotes", "client")
    assert reply.status == 200
    assert [(q["version"], q["amount"], q["outcome"]) for q in reply.body["items"]] == [
        (1, "12000.00", "withdrawn")
    ]

    submit(service, number, "1200.00")
    harness.pump()
    harness.wait_for_decision(number, 2)  # version 2 has its own execution, waiting
    approve(service, number)
    harness.pump()
    end = harness.wait_for_end(number, 2)
    assert (end["status"], end["state"]) == ("SUCCEEDED", "Approved")
    executions = harness.sfn.list_executions(stateMachineArn=harness.machine_arn)["executions"]
    assert sorted(e["name"] for e in executions) == [
        f"ticket-{number}-quote-1",
        f"ticket-{number}-quote-2",
    ]
    assert harness.summary(number, 1)["state"] == "Withdrawn"  # the first stays as it ended
    ticket = uow.tickets.get(number)
    assert [(q.version, q.amount, q.outcome) for q in ticket.quotes] == [
        (1, Decimal("12000.00"), QuoteOutcome.WITHDRAWN),
        (2, Decimal("1200.00"), QuoteOutcome.APPROVED),
    ]
    assert ticket.approved_quote is not None and ticket.approved_quote.version == 2


@pytest.fixture
def http_api(service: HelpdeskService, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The API handler over this test's service (as tests/integration/api's `api` fixture)."""
    from helpdesk.settings import get_settings
    from tests.integration.api.conftest import Api

    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    get_settings.cache_clear()
    from functions.api import app as module

    module.set_service(service)
    yield Api(module)
    module.set_service(None)
    get_settings.cache_clear()
