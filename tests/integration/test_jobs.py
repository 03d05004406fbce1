"""Auto-closure and monthly task rollover against moto, at their boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb.toolkit import TRANSACTION_ATTEMPTS, marshal
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.model import ClosureReason, Status, Ticket, TicketType
from helpdesk.domain.timekeeping import Task
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.jobs import AutoCloseJob, JobReport, TaskRolloverJob
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2, MANAGER, OTHER_CLIENT, REGION, TABLE_NAME, Clock
from tests.integration.store_support import outbox_items, own_service
from tests.support.functions import load_function

PARIS_2330_LAST_DAY = datetime(2026, 1, 31, 22, 30, tzinfo=UTC)  # 23:30 in Paris (CET)


def answered_ticket(
    service: HelpdeskService, clock: Clock, at: datetime, client: Any = CLIENT
) -> Ticket:
    """An assistance ticket answered at `at` (taken and started just before)."""
    clock.now = at - timedelta(minutes=10)
    ticket = service.create_ticket(client, title="Mot de passe", description="", type=TicketType.ASSISTANCE)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.perform(L1, ticket.number, Action.START, ActionInput())
    clock.now = at
    return service.perform(
        L1, ticket.number, Action.SEND_ANSWER, ActionInput(message="Réinitialisé.")
    ).ticket


def test_closes_exactly_at_due_time_not_one_second_before(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert ticket.auto_close_at == datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    job = AutoCloseJob(uow)

    early = job.run(datetime(2026, 11, 9, 8, 59, 59, tzinfo=UTC))
    assert early.closed == 0
    assert uow.tickets.get(ticket.number).status is Status.ANSWER_SENT

    on_time = job.run(datetime(2026, 11, 9, 9, 0, 0, tzinfo=UTC))
    assert on_time.closed == 1 and on_time.closed_tickets == [ticket.number]
    closed = uow.tickets.get(ticket.number)
    assert closed.status is Status.CLOSED
    assert closed.closure_reason is ClosureReason.AUTO_CLOSED
    last = uow.tickets.history(ticket.number)[-1]
    assert (last.action, last.actor, last.to_status) == ("auto-close", "system", Status.CLOSED)


def test_answer_at_2330_paris_on_last_day_of_month(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, PARIS_2330_LAST_DAY)
    # 7 days later at 23:30 in Paris: 7 February, 22:30 UTC.
    assert ticket.auto_close_at == datetime(2026, 2, 7, 22, 30, tzinfo=UTC)
    assert AutoCloseJob(uow).run(datetime(2026, 2, 7, 22, 29, tzinfo=UTC)).closed == 0
    assert AutoCloseJob(uow).run(datetime(2026, 2, 7, 22, 30, tzinfo=UTC)).closed == 1


@pytest.mark.parametrize(
    ("answered", "due"),
    [
        # Spring forward on Sunday 29 March 2026: 10:00 CET -> 10:00 CEST a week later.
        (datetime(2026, 3, 25, 9, 0, tzinfo=UTC), datetime(2026, 4, 1, 8, 0, tzinfo=UTC)),
        # Fall back on Sunday 25 October 2026: 10:00 CEST -> 10:00 CET a week later.
        (datetime(2026, 10, 21, 8, 0, tzinfo=UTC), datetime(2026, 10, 28, 9, 0, tzinfo=UTC)),
    ],
    ids=["march-dst", "october-dst"],
)
def test_due_time_keeps_paris_wall_clock_across_dst(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock, answered: datetime, due: datetime
) -> None:
    ticket = answered_ticket(service, clock, answered)
    assert ticket.auto_close_at == due
    assert AutoCloseJob(uow).run(due - timedelta(seconds=1)).closed == 0
    assert AutoCloseJob(uow).run(due).closed == 1


@pytest.mark.parametrize("days", [1, 30])
def test_delay_comes_from_the_organisation(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock, days: int
) -> None:
    service.put_org(
        MANAGER, "globex", name="Globex", email_domains=["globex.example"], auto_close_days=days
    )
    answered = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    ticket = answered_ticket(service, clock, answered, client=OTHER_CLIENT)
    assert ticket.auto_close_at == answered + timedelta(days=days)
    assert AutoCloseJob(uow).run(answered + timedelta(days=days, seconds=-1)).closed == 0
    assert AutoCloseJob(uow).run(answered + timedelta(days=days, minutes=1)).closed == 1


def test_confirm_racing_the_closure_has_one_outcome(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    due = ticket.auto_close_at
    assert due is not None
    stale = list(uow.tickets.due_for_auto_close(until=due, counter=JobReport("t", "")))
    clock.now = due
    service.perform(CLIENT, ticket.number, Action.CONFIRM, ActionInput())

    job = AutoCloseJob(uow)
    report = JobReport("auto-close", "")
    job._close(stale[0], due, report)  # the job had read the ticket before the confirm
    assert (report.closed, report.conflicts) == (0, 1)
    final = uow.tickets.get(ticket.number)
    assert final.closure_reason is ClosureReason.CONFIRMED
    closing = [e for e in uow.tickets.history(ticket.number) if e.to_status is Status.CLOSED]
    assert [e.action for e in closing] == ["confirm"]


def test_client_reply_suspends_the_countdown_until_a_consultant_acts(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    clock.advance(days=2)
    service.add_comment(CLIENT, ticket.number, body="Toujours en erreur chez moi.")
    assert AutoCloseJob(uow).run(clock.now + timedelta(days=30)).closed == 0
    clock.advance(days=1)
    service.add_comment(L1, ticket.number, body="Essayez maintenant, svp.")
    restarted = uow.tickets.get(ticket.number)
    assert restarted.auto_close_at == clock.now + timedelta(days=7)
    assert AutoCloseJob(uow).run(clock.now + timedelta(days=7)).closed == 1


def test_reminder_is_sent_once_one_day_before(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    assert ticket.auto_close_at is not None
    job = AutoCloseJob(uow)
    assert job.run(ticket.auto_close_at - timedelta(days=2)).reminded == 0
    assert job.run(ticket.auto_close_at - timedelta(hours=23)).reminded == 1
    assert job.run(ticket.auto_close_at - timedelta(hours=22)).reminded == 0
    assert job.run(ticket.auto_close_at).closed == 1
    kinds = [m["kind"] for m in outbox_items(uow.table.client, ticket.number)]
    assert kinds == [
        "created",
        "staff_new_ticket",  # the level's consultants (DESIGN.md §8)
        "taken",
        "answer_sent",
        "auto_close_reminder",
        "closed",
        "staff_auto_closed",  # the assignee, when auto-closed
    ]
    [closed] = [m for m in outbox_items(uow.table.client, ticket.number) if m["kind"] == "closed"]
    assert closed["to"] == CLIENT.email and closed["subject"].startswith(f"[#{ticket.number}] ")
    # True whatever the client did by mail: it says what did not happen, not that they were silent.
    assert "fermée automatiquement" in closed["body"]
    assert "ni confirmée ni rouverte" in closed["body"]
    assert "sans retour" not in closed["body"]


def test_replaying_the_same_run_three_times_closes_once(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    assert ticket.auto_close_at is not None
    reports = [AutoCloseJob(uow).run(ticket.auto_close_at) for _ in range(3)]
    assert [r.closed for r in reports] == [1, 0, 0]
    closing = [e for e in uow.tickets.history(ticket.number) if e.action == "auto-close"]
    assert len(closing) == 1


@pytest.mark.parametrize("other_writer", ["transaction-conflict", "confirm", "reopen"])
def test_a_ticket_that_moved_on_is_skipped_and_the_others_are_closed(
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    other_writer: str,
) -> None:
    """Regression (issue #14): auto-close answered 500 while clients confirmed and reopened the
    same tickets. Between the job's read and its commit of one due ticket, another writer gets
    there: DynamoDB keeps cancelling the transaction with TransactionConflict (the toolkit's
    retries run out: `Conflict`), or the client's confirm or reopen commits first (the job's
    condition fails: `TicketChanged`). The job skips that ticket, closes the others and the
    run does not fail."""
    answered = [
        answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC)) for _ in range(3)
    ]
    due = answered[0].auto_close_at
    assert due is not None and {t.auto_close_at for t in answered} == {due}
    victim = answered[1].number  # after one ticket closed, before another
    client = uow.table.client
    real_transact = client.transact_write_items
    cancelled: list[int] = []  # the victim's transactions cancelled by TransactionConflict
    moved_on: list[int] = []  # the client's action, run once

    def touches_victim(items: list[dict[str, Any]]) -> bool:
        return any(
            op.get("Update", {}).get("Key", {}).get("pk") == {"S": f"TICKET#{victim}"}
            for op in items
        )

    def transact(**request: Any) -> Any:
        items = request["TransactItems"]
        if touches_victim(items) and other_writer == "transaction-conflict":
            # What DynamoDB answers while another transaction holds one of the items.
            cancelled.append(len(items))
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"} for _ in items],
                },
                "TransactWriteItems",
            )
        if touches_victim(items) and not moved_on:
            moved_on.append(victim)  # the client acts between the job's read and its commit
            action = Action.CONFIRM if other_writer == "confirm" else Action.REOPEN
            params = ActionInput(reason="toujours en panne") if other_writer == "reopen" else None
            own_service(service).perform(CLIENT, victim, action, params or ActionInput())
        return real_transact(**request)

    monkeypatch.setattr(client, "transact_write_items", transact)
    report = AutoCloseJob(uow).run(due)  # no exception: the run succeeds

    others = [t.number for t in answered if t.number != victim]
    assert (report.examined, report.closed, report.conflicts) == (3, 2, 1)
    assert report.closed_tickets == others
    for number in others:
        assert uow.tickets.get(number).closure_reason is ClosureReason.AUTO_CLOSED
    skipped = uow.tickets.get(victim)
    assert "auto-close" not in [e.action for e in uow.tickets.history(victim)]
    if other_writer == "transaction-conflict":
        assert len(cancelled) == TRANSACTION_ATTEMPTS  # every retry of the toolkit, then Conflict
        assert skipped.status is Status.ANSWER_SENT  # nothing of its unit of work was written
        monkeypatch.undo()  # the other transaction is over: the next run closes it
        rerun = AutoCloseJob(uow).run(due)
        assert (rerun.closed, rerun.closed_tickets, rerun.conflicts) == (1, [victim], 0)
    elif other_writer == "confirm":
        assert moved_on == [victim]
        assert skipped.closure_reason is ClosureReason.CONFIRMED
    else:
        assert moved_on == [victim]
        assert (skipped.status, skipped.auto_close_at) == (Status.IN_PROGRESS, None)


def _rollover_fixture(service: HelpdeskService, clock: Clock) -> dict[str, Ticket]:
    clock.now = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
    made = {}
    for name in ("taken", "in_progress", "open", "closed"):
        made[name] = service.create_ticket(
            CLIENT, title=f"Demande {name}", description="", type=TicketType.INCIDENT
        )
    for name in ("taken", "in_progress", "closed"):
        service.perform(L2, made[name].number, Action.TAKE, ActionInput())
    service.perform(L2, made["in_progress"].number, Action.START, ActionInput())
    service.perform(L2, made["closed"].number, Action.START, ActionInput())
    service.perform(L2, made["closed"].number, Action.SEND_ANSWER, ActionInput(message="ok"))
    service.perform(CLIENT, made["closed"].number, Action.CONFIRM, ActionInput())
    return made


def _tasks(uow: DynamoUnitOfWork, number: int) -> list[Task]:
    return uow.tickets.with_tasks(number)[1]


def _task_titles(uow: DynamoUnitOfWork, number: int) -> list[str]:
    return sorted(t.title for t in _tasks(uow, number))


def test_rollover_on_first_of_february_creates_fevrier_tasks_for_open_tickets_only(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    made = _rollover_fixture(service, clock)
    first_of_february_0005_paris = datetime(2022, 1, 31, 23, 5, tzinfo=UTC)
    report = TaskRolloverJob(uow).run(first_of_february_0005_paris)
    assert report.tasks_created == 2
    n = made["taken"].number
    assert _task_titles(uow, n) == [
        f"#{n} - Demande taken - Février 2022",
        f"#{n} - Demande taken - Janvier 2022",
    ]
    assert len(_tasks(uow, made["closed"].number)) == 1  # January only
    assert _tasks(uow, made["open"].number) == []  # never taken in charge
    again = TaskRolloverJob(uow).run(first_of_february_0005_paris)
    assert (again.tasks_created, again.tasks_existing) == (0, 2)


def test_rollover_interrupted_then_rerun_gives_one_task_per_ticket(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.now = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
    numbers = []
    for i in range(6):
        ticket = service.create_ticket(CLIENT, title=f"T{i}", description="", type=TicketType.INCIDENT)
        service.perform(L2, ticket.number, Action.TAKE, ActionInput())
        numbers.append(ticket.number)
    client = uow.table.client
    real_transact = client.transact_write_items
    commits: list[int] = []

    def stops_after_three(**request: Any) -> Any:
        commits.append(1)
        if len(commits) == 4:
            raise TimeoutError("Lambda timed out")
        return real_transact(**request)

    monkeypatch.setattr(client, "transact_write_items", stops_after_three)
    february = datetime(2022, 2, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(TimeoutError):
        TaskRolloverJob(uow).run(february)
    monkeypatch.setattr(client, "transact_write_items", real_transact)
    rerun = TaskRolloverJob(uow).run(february)
    assert (rerun.tasks_created, rerun.tasks_existing) == (3, 3)
    for number in numbers:
        months = [t.month for t in _tasks(uow, number)]
        assert months == ["2022-01", "2022-02"]


def _bulk_tickets(count: int, start: int, **fields: Any) -> None:
    """Tickets in the shape the store writes them."""
    base = Ticket(
        number=0,
        title="bulk",
        description="",
        type=TicketType.ASSISTANCE,
        org_id="acme",
        requester="client-acme",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    # Seeding only: straight into moto's backend, 10x faster than the API; the jobs under
    # test still read through the real API.
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    for number in range(start, start + count):
        item = it.ticket_to_item(replace(base, number=number, **fields))
        backend.put_item(TABLE_NAME, marshal(item))


@pytest.mark.slow
def test_jobs_read_only_what_they_change_as_the_table_grows(uow: DynamoUnitOfWork) -> None:
    taken = datetime(2026, 1, 2, tzinfo=UTC)
    answered = datetime(2026, 1, 3, tzinfo=UTC)
    _bulk_tickets(
        10_000, 1, status=Status.CLOSED, closure_reason=ClosureReason.CONFIRMED,
        closed_at=answered, taken_at=taken,
    )
    _bulk_tickets(
        10, 10_001, status=Status.ANSWER_SENT, taken_at=taken, answered_at=answered,
        auto_close_at=answered + timedelta(days=7),
    )
    _bulk_tickets(90, 10_011, status=Status.IN_PROGRESS, taken_at=taken)
    close = AutoCloseJob(uow).run(datetime(2026, 1, 20, tzinfo=UTC))
    assert close.closed == 10
    assert close.items_read <= 11
    rollover = TaskRolloverJob(uow).run(datetime(2026, 2, 1, 0, 5, tzinfo=UTC))
    assert rollover.tasks_created == 90
    assert rollover.items_read <= 110


def test_jobs_handler_runs_as_of_the_scheduled_time(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    jobs = load_function("jobs")
    monkeypatch.setattr(jobs, "default_uow", lambda: uow)
    ticket = answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    assert ticket.auto_close_at is not None
    event = {"job": "auto-close", "at": "2026-05-11T08:00:00Z"}
    result = jobs.lambda_handler(event, _context())
    assert result["closed"] == 1
    with pytest.raises(jobs.BadScheduleEvent):
        jobs.lambda_handler({"job": "auto-close"}, _context())


def _context() -> Any:
    class Context:
        function_name = "jobs"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:jobs"
        aws_request_id = "req-1"

    return Context()
