"""Faults: throttling and transient 5xx injected under the adapters, in-process against moto.

A `FaultInjector` is a botocore `before-send` hook registered ahead of moto's own: for the
attempts it chooses it answers an AWS error (the exact status and body DynamoDB or S3 send)
instead of letting the request through, and it counts calls and attempts. Three things are
measured:

- retries: the first K attempts of a store write fail with ProvisionedThroughputExceeded,
  ThrottlingException or InternalServerError, under the standard and the adaptive retry
  modes of helpdesk.adapters.aws_clients: the write succeeds on attempt K+1, once;
- exhaustion: every attempt fails: the API answers 503 problem+json with Retry-After;
- mid-run failures: one write in the middle of a schedule run (auto-close, task rollover) or
  of the billing export fails on all its attempts, the handler fails, the scheduler's retry
  (the same event again) completes the run. The final state must equal that of an undisturbed
  run in an identical world: nothing duplicated (closure, history event, task, export file,
  mail in the outbox), nothing lost.

With `applied=True` the injector lets moto write first and then answers the error: a reply
lost after the write (tests/integration/test_faults.py uses it on a conditional put).

tests/integration/test_faults.py asserts on the same functions.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.retries import standard
from moto.core.models import botocore_stubber

from helpdesk.adapters import aws_clients
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table, marshal
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.model import TicketType
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from helpdesk.settings import Settings
from tests.reliability import Figure, StackContext
from tests.reliability.replays import (
    CLIENT,
    L1,
    L2,
    TABLE,
    World,
    answered_ticket,
    differences,
    load_function,
    snapshot,
    world,
)

AREA = "faults"
MAX_ATTEMPTS = 4
RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class Fault:
    """An AWS error reply: its HTTP status and its body."""

    code: str
    status: int
    body: bytes
    content_type: str = "application/x-amz-json-1.0"

    def response(self, url: str) -> AWSResponse:
        headers = {"Content-Type": self.content_type, "x-amzn-RequestId": "fault-injected"}
        return AWSResponse(url, self.status, headers, _Raw(self.body))


class _Raw:
    """The raw body botocore reads an AWSResponse's content from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def dynamodb_fault(code: str, status: int, namespace: str) -> Fault:
    body = {"__type": f"{namespace}#{code}", "message": f"{code} (injected)"}
    return Fault(code, status, json.dumps(body).encode())


DYNAMODB_FAULTS = {
    fault.code: fault
    for fault in (
        dynamodb_fault(
            "ProvisionedThroughputExceededException", 400, "com.amazonaws.dynamodb.v20120810"
        ),
        dynamodb_fault("ThrottlingException", 400, "com.amazon.coral.availability"),
        dynamodb_fault("InternalServerError", 500, "com.amazonaws.dynamodb.v20120810"),
    )
}
S3_INTERNAL_ERROR = Fault(
    "InternalError",
    500,
    b"<Error><Code>InternalError</Code><Message>injected</Message></Error>",
    "application/xml",
)

# (call number, attempt number), both from 1 -> whether that attempt fails.
FailurePlan = Callable[[int, int], bool]


def first_attempts(count: int) -> FailurePlan:
    """The first `count` attempts of the first call fail: its retries get through."""
    return lambda call, attempt: call == 1 and attempt <= count


def every_attempt_of_call(number: int) -> FailurePlan:
    """Every attempt of the `number`-th call fails: the call fails, retries exhausted."""
    return lambda call, attempt: call == number


@dataclass
class FaultInjector:
    """Fails the attempts its plan picks among the calls of `operations` on one client.

    botocore runs every `before-send` handler and takes the first answer, so moto's own
    handler would still apply a failed attempt (a reply lost after the write). Throttling and
    most 5xx are refused before anything is written: unless `applied`, moto is switched off
    for the failed attempt, and on again by a handler that runs after it.
    """

    fault: Fault
    operations: frozenset[str]
    plan: FailurePlan
    applied: bool = False
    calls: int = 0
    attempts: int = 0
    injected: int = 0

    def install(self, client: Any) -> FaultInjector:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(f"before-send.{service}", self.before_send)
        # Handlers of a more specific event run first: moto's is on `before-send`.
        client.meta.events.register_last("before-send", self.after_moto)
        return self

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if event_name.rsplit(".", 1)[-1] not in self.operations:
            return None
        attempt = int(request.context.get("retries", {}).get("attempt", 1))
        if attempt == 1:
            self.calls += 1
        self.attempts += 1
        if not self.plan(self.calls, attempt):
            return None
        self.injected += 1
        if not self.applied:
            botocore_stubber.enabled = False
        return self.fault.response(request.url)

    def after_moto(self, **_: Any) -> None:
        botocore_stubber.enabled = True

    @property
    def retries(self) -> int:
        return self.attempts - self.calls


@contextmanager
def instant_backoff() -> Iterator[list[float]]:
    """botocore's backoff between attempts without the sleep; yields the delays it chose."""
    chosen: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def recorded(self: standard.ExponentialBackoff, context: Any) -> float:
        chosen.append(original(self, context))
        return 0.0

    standard.ExponentialBackoff.delay_amount = recorded
    try:
        yield chosen
    finally:
        standard.ExponentialBackoff.delay_amount = original


def retry_settings(mode: str, max_attempts: int = MAX_ATTEMPTS) -> Settings:
    return Settings.model_validate(
        {"TABLE_NAME": TABLE, "AWS_RETRY_MODE": mode, "AWS_MAX_ATTEMPTS": max_attempts}
    )


def faulty_service(w: World, mode: str, injector: FaultInjector) -> HelpdeskService:
    """The world's service over a client of the factory, with the injector on it."""
    client = aws_clients.client("dynamodb", retry_settings(mode))
    injector.install(client)
    return HelpdeskService(DynamoUnitOfWork(Table(client, TABLE)), clock=w.clock)


# ------------------------------------------------------------------ retries
@dataclass(frozen=True)
class RetryOutcome:
    mode: str
    fault: str
    injected: int
    attempts: int
    retries: int
    succeeded: bool
    tickets: int  # tickets in the table afterwards: exactly 1
    seconds: float  # the call's duration: the adaptive mode's rate limiter holds it back
    error: ClientError | None = None


def _ticket_count(w: World) -> int:
    """The tickets stored (raw read of the `all_tickets` index: every ticket is on it)."""
    stored = w.table.query(
        IndexName="all_tickets",
        KeyConditionExpression="all_pk = :p",
        ExpressionAttributeValues=marshal({":p": keys.ALL_TICKETS_PK}),
    )
    return sum(1 for _ in stored)


def create_through_faults(mode: str, fault: str, failures: int) -> RetryOutcome:
    """Create a ticket while the first `failures` attempts of its commit fail."""
    with world() as w, instant_backoff():
        injector = FaultInjector(
            DYNAMODB_FAULTS[fault], frozenset({"TransactWriteItems"}), first_attempts(failures)
        )
        service = faulty_service(w, mode, injector)
        started = time.monotonic()
        error = None
        try:
            service.create_ticket(CLIENT, title="Lent", description="", type=TicketType.INCIDENT)
        except ClientError as exc:
            error = exc
        seconds = time.monotonic() - started
        tickets = _ticket_count(w)
    return RetryOutcome(
        mode,
        fault,
        injector.injected,
        injector.attempts,
        injector.retries,
        error is None,
        tickets,
        seconds,
        error,
    )


# ------------------------------------------------------------------ exhaustion
@dataclass(frozen=True)
class ExhaustedOutcome:
    status: int
    content_type: str
    retry_after: str | None
    problem_type: str
    attempts: int


def read_while_throttled(mode: str = "standard") -> ExhaustedOutcome:
    """GET /tickets/{n} while every GetItem is throttled: the API's answer."""
    from functions.api import app as api_app
    from tests.integration.api.events import CLAIMS, FakeLambdaContext, http_event

    with world() as w, instant_backoff():
        number = w.service.create_ticket(
            CLIENT, title="Lent", description="", type=TicketType.INCIDENT
        ).number
        injector = FaultInjector(
            DYNAMODB_FAULTS["ProvisionedThroughputExceededException"],
            frozenset({"GetItem", "Query"}),
            lambda call, attempt: True,
        )
        api_app.set_service(faulty_service(w, mode, injector))
        try:
            event = http_event("GET", f"/tickets/{number}", claims=CLAIMS["client"])
            reply = api_app.lambda_handler(event, FakeLambdaContext())
        finally:
            api_app.set_service(None)
    headers = {k.lower(): v for k, v in (reply.get("headers") or {}).items()}
    body = json.loads(reply.get("body") or "{}")
    return ExhaustedOutcome(
        reply["statusCode"],
        headers.get("content-type", ""),
        headers.get("retry-after"),
        str(body.get("type", "")),
        injector.attempts,
    )


# ------------------------------------------------------------------ mid-run failures
@dataclass(frozen=True)
class MidRun:
    """Prepares a world and its event; names the client and calls the fault goes on."""

    prepare: Callable[[World], dict[str, Any]]
    client: Callable[[], Any]  # the handler's own client, built on first call
    operations: frozenset[str]
    fault: Fault
    failing_call: int


@dataclass(frozen=True)
class MidRunOutcome:
    job: str
    first_run_failed: bool
    injected: int
    retries: int
    differences: list[str] = field(default_factory=list)  # vs an undisturbed run


def _jobs() -> Any:
    return load_function("jobs")


def _jobs_table_client() -> Any:
    """The jobs function's own DynamoDB client (its unit of work's table)."""
    return _jobs().default_uow().table.client


def _billing_exporter() -> Any:
    """The export the jobs function runs (built once per environment, like the handler's)."""
    from helpdesk import bootstrap_billing

    return bootstrap_billing.billing_exporter()


def _exports_client() -> Any:
    """The export's S3 client (the exports bucket)."""
    return _billing_exporter().exports.client


def _billing_table_client() -> Any:
    """The export's DynamoDB client (month locks, export records)."""
    return _billing_exporter().billing.table.client


def _due_tickets(w: World) -> dict[str, Any]:
    tickets = [answered_ticket(w, f"Demande {i}") for i in range(5)]
    due = max(t.auto_close_at for t in tickets if t.auto_close_at is not None)
    return {"job": "auto-close", "at": (due + timedelta(hours=1)).isoformat()}


def _taken_tickets(w: World) -> dict[str, Any]:
    for i in range(5):
        ticket = w.service.create_ticket(
            CLIENT, title=f"Incident {i}", description="", type=TicketType.INCIDENT
        )
        w.service.perform(L2, ticket.number, Action.TAKE, ActionInput())
    return {"job": "task-rollover", "at": "2026-10-31T23:05:00Z"}


def _month_of_time(w: World) -> dict[str, Any]:
    for i in range(3):
        ticket = w.service.create_ticket(
            CLIENT, title=f"Paramétrage {i}", description="", type=TicketType.ASSISTANCE
        )
        w.service.perform(L1, ticket.number, Action.TAKE, ActionInput())
        w.service.log_time(
            L1, ticket.number, minutes=30 + i, kind=TimeKind.REALISATION, day=date(2026, 10, 5)
        )
    return {"job": "billing-export", "at": "2026-11-01T01:00:00Z"}


WRITES = frozenset({"PutItem", "UpdateItem", "TransactWriteItems", "DeleteItem"})
THROTTLED = DYNAMODB_FAULTS["ProvisionedThroughputExceededException"]
MID_RUNS = {
    "auto-close": MidRun(_due_tickets, _jobs_table_client, WRITES, THROTTLED, 3),
    "task-rollover": MidRun(_taken_tickets, _jobs_table_client, WRITES, THROTTLED, 3),
    "billing-export (S3 put)": MidRun(
        _month_of_time, _exports_client, frozenset({"PutObject"}), S3_INTERNAL_ERROR, 2
    ),
    "billing-export (table write)": MidRun(
        _month_of_time, _billing_table_client, WRITES, THROTTLED, 2
    ),
}


def _run_job(event: dict[str, Any]) -> None:
    from infra.localstack.lambdas import FakeLambdaContext

    _jobs().lambda_handler(event, FakeLambdaContext("jobs"))


# What differs between two runs of the billing export in identical worlds: the export's random
# id, the random suffix of its lock history events, the digests of the manifest naming that id
# (its ETag, `manifest_sha256`) and the S3 version ids the lock records.
_EXPORT_ID = re.compile(r"\b[0-9a-f]{32}\b")
_VERSION_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_HISTORY_SUFFIX = re.compile(r"#(lock|exported|unlock)#[0-9a-f]{8}\"")
_MANIFEST_SHA = re.compile(r'"manifest_sha256": \{"S": "[0-9a-f]{64}"\}')


def comparable(state: dict[str, list[str]]) -> dict[str, list[str]]:
    """The snapshot with the export's random identifiers masked (every other byte compared)."""
    table = [
        _MANIFEST_SHA.sub(
            '"manifest_sha256": "<sha>"', _HISTORY_SUFFIX.sub(r"#\1#<suffix>\"", line)
        )
        for line in state["table"]
    ]
    table = [_VERSION_ID.sub("<version>", _EXPORT_ID.sub("<export-id>", line)) for line in table]
    s3 = [
        _EXPORT_ID.sub("<export-id>", line) if "manifest.json" in line else line
        for line in state["s3"]
    ]
    return {**state, "table": sorted(table), "s3": sorted(s3)}


def fail_mid_run_then_rerun(job: str) -> MidRunOutcome:
    """The job's run fails on one write; the same event again completes it. The final state
    is compared with that of an undisturbed run in an identical world."""
    mid_run = MID_RUNS[job]
    with world() as w:
        event = mid_run.prepare(w)
        _run_job(event)
        undisturbed = comparable(snapshot(w))
    with world() as w, instant_backoff():
        event = mid_run.prepare(w)
        injector = FaultInjector(
            mid_run.fault, mid_run.operations, every_attempt_of_call(mid_run.failing_call)
        ).install(mid_run.client())
        try:
            _run_job(event)
            failed = False
        except ClientError:
            failed = True
        _run_job(event)  # the scheduler's retry
        recovered = comparable(snapshot(w))
    return MidRunOutcome(
        job, failed, injector.injected, injector.retries, differences(undisturbed, recovered)
    )


# ------------------------------------------------------------------ the report
def measure(
    context: StackContext | None = None,
    *,
    modes: tuple[str, ...] = RETRY_MODES,
    faults: tuple[str, ...] = tuple(DYNAMODB_FAULTS),
    jobs: tuple[str, ...] = tuple(MID_RUNS),
) -> list[Figure]:
    """In-process against moto: the running stack (context) is not needed."""
    failures = MAX_ATTEMPTS - 1
    retried = [create_through_faults(m, f, failures) for m in modes for f in faults]
    exhausted = read_while_throttled()
    mid_runs = [fail_mid_run_then_rerun(job) for job in jobs]
    succeeded = [r.succeeded and r.tickets == 1 for r in retried]
    figures = [
        Figure(
            AREA,
            "faults injected before a success",
            sum(r.injected for r in retried),
            detail=f"{'+'.join(faults)}; {failures} per call",
        ),
        Figure(AREA, "retries observed", sum(r.retries for r in retried)),
        Figure(
            AREA,
            "operations succeeded after retries",
            f"{sum(succeeded)}/{len(retried)}",
            ok=all(succeeded),
            detail=f"retry modes {'+'.join(modes)}, {MAX_ATTEMPTS} attempts at most",
        ),
    ]
    for mode in modes:
        throttled = [r.seconds for r in retried if r.mode == mode and "Throttl" in r.fault]
        if throttled:
            figures.append(
                Figure(
                    AREA,
                    f"{mode} mode: seconds for a call throttled {failures} times",
                    max(throttled),
                    detail="backoff sleeps skipped; what is left is client-side rate limiting",
                )
            )
    figures += [
        Figure(
            AREA,
            "API answer when throttled past retries",
            f"{exhausted.status} Retry-After {exhausted.retry_after}",
            ok=exhausted.status == 503 and exhausted.retry_after is not None,
            detail=f"{exhausted.attempts} attempts, {exhausted.content_type}",
        ),
        Figure(
            AREA,
            "mid-run failures recovered by a rerun",
            f"{sum(m.first_run_failed for m in mid_runs)}/{len(mid_runs)}",
            ok=all(m.first_run_failed for m in mid_runs),
            detail=", ".join(m.job for m in mid_runs),
        ),
        Figure(
            AREA,
            "duplicates or losses after the rerun",
            sum(len(m.differences) for m in mid_runs),
            ok=not any(m.differences for m in mid_runs),
            detail="; ".join(d for m in mid_runs for d in m.differences)[:200]
            or "final state = an undisturbed run's",
        ),
    ]
    return figures
