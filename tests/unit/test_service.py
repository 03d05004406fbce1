"""The use cases on the in-memory unit of work (tests/unit/fakes.py): no AWS, no moto.

Expected values are typed from DESIGN.md (statuses, titles of tasks, French months, the
auto-close delay, the closure reasons), never computed by the code under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from helpdesk import side_effects
from helpdesk.changes import (
    AutoCloseReminded,
    AwaitingQuote,
    CommandQueued,
    EventRecorded,
    MailQueued,
    TaskEnsured,
    TicketCreated,
    TicketUpdated,
)
from helpdesk.domain.errors import (
    Forbidden,
    InvalidInput,
    MonthLocked,
    NotFound,
    StaleVersion,
    StatusConflict,
)
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import (
    Caller,
    ClosureReason,
    Priority,
    Status,
    Ticket,
    TicketType,
)
from helpdesk.domain.notifications import Notification, NotificationKind
from helpdesk.domain.outbox import CommandKind, WorkflowCommand
from helpdesk.domain.tickets import TicketDraft
from helpdesk.domain.timekeeping import Task, TimeKind
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, Transition, decide
from helpdesk.jobs import AutoCloseJob, TaskRolloverJob
from helpdesk.service import HelpdeskService
from tests.unit.builders import (
    CLIENT,
    FINANCE,
    L1,
    L1B,
    L2,
    L2B,
    L3,
    MANAGER,
    NOW,  # Friday 27 November 2026, 10:00 in Paris
    OTHER_CLIENT,
    OWNER,
    SITUATIONS,
    SYSTEM,
    base_ticket,
    build_ticket,
)
from tests.unit.fakes import InMemoryUnitOfWork

TITLE = "Création de l'utilisateur Fabrice"
CLIENT_MAIL = "fabrice@acme.example"
# send-answer at NOW with acme's delay of 5 days: closes Wednesday 2 December, 10:00 in Paris.
DUE = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(uow: InMemoryUnitOfWork, clock: Clock) -> HelpdeskService:
    """Two organisations (acme closes answered tickets after 5 days) and a roster."""
    ids = (f"id-{n:04d}" for n in range(1, 10_000))
    svc = HelpdeskService(uow, clock=clock, ids=lambda: next(ids))
    svc.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"], auto_close_days=5)
    svc.put_org(
        MANAGER, "globex", name="Globex", email_domains=["globex.example"], auto_close_days=1
    )
    for caller in (L1, L1B, L2, L2B, L3):
        assert caller.level is not None
        svc.put_consultant(
            MANAGER, caller.id, name=caller.id, email=caller.email, level=caller.level
        )
    return svc


def open_ticket(service: HelpdeskService, ticket_type: str = "assistance") -> Ticket:
    return service.create_ticket(
        CLIENT, title=TITLE, description="Merci.", type=TicketType(ticket_type)
    )


def act(
    service: HelpdeskService,
    caller: Caller,
    number: int,
    action: str,
    expected_version: int | None = None,
    **params: object,
) -> Transition:
    return service.perform(
        caller,
        number,
        Action(action),
        ActionInput(**params),  # type: ignore[arg-type]
        expected_version=expected_version,
    )


def answered(service: HelpdeskService) -> Ticket:
    """An assistance ticket of acme, answered by L1 at NOW (auto-closes at DUE)."""
    number = open_ticket(service).number
    act(service, L1, number, "take")
    act(service, L1, number, "start")
    return act(service, L1, number, "send-answer", message="C'est fait.").ticket


def recipient(m: Notification) -> str:
    """An address, `@<roster id>` for a consultant, `level <n>` for a level's consultants."""
    return m.to or (f"@{m.to_consultant}" if m.to_consultant else f"level {m.to_level}")


def mails_of(uow: InMemoryUnitOfWork, number: int) -> list[tuple[NotificationKind, str]]:
    return [(m.kind, recipient(m)) for m in uow.mails if m.ticket_number == number]


def actions(uow: InMemoryUnitOfWork, number: int) -> list[str]:
    return [e.action for e in uow.tickets.history(number)]


# ------------------------------------------------------------------ creation


def test_creation_numbers_tickets_and_queues_the_acknowledgement_in_its_commit(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    before = uow.committed
    first = open_ticket(service)
    assert uow.committed == before + 1
    assert mails_of(uow, 1) == [
        (NotificationKind.CREATED, CLIENT_MAIL),
        (NotificationKind.STAFF_NEW_TICKET, "level 1"),  # the level's consultants (§8)
    ]
    second = open_ticket(service, "incident")
    assert uow.committed == before + 2

    assert (first.number, second.number) == (1, 2)
    stored = uow.tickets.get(1)
    assert stored == first
    assert (stored.status, stored.version, stored.support_level, stored.org_id) == (
        Status.OPEN,
        1,
        1,
        "acme",
    )
    assert uow.tickets.get(2).support_level == 2  # an incident is taken by level 2
    [event] = uow.tickets.history(1)
    assert (event.version, event.action, event.from_status, event.to_status) == (
        1,
        "create",
        Status.OPEN,
        Status.OPEN,
    )
    assert mails_of(uow, 2) == [
        (NotificationKind.CREATED, CLIENT_MAIL),
        (NotificationKind.STAFF_NEW_TICKET, "level 2"),
    ]
    assert "[#1]" in uow.mails[0].subject


def test_a_creation_without_acknowledgement_still_tells_the_level(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    ticket = service.create_ticket(
        CLIENT, title=TITLE, description="Liste.", type=TicketType.ASSISTANCE, acknowledge=False
    )
    assert mails_of(uow, ticket.number) == [(NotificationKind.STAFF_NEW_TICKET, "level 1")]


def test_a_number_taken_meanwhile_is_numbered_again(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    before = uow.committed
    theirs: list[Ticket] = []
    uow.interleave(lambda: theirs.append(open_ticket(service, "incident")))
    ours = open_ticket(service)
    assert (theirs[0].number, ours.number) == (1, 2)
    assert uow.committed == before + 2
    assert uow.tickets.get(1).type is TicketType.INCIDENT
    assert uow.tickets.get(2).type is TicketType.ASSISTANCE
    # One acknowledgement and one staff notice each: the lost attempt queued nothing.
    assert [m.ticket_number for m in uow.mails] == [1, 1, 2, 2]


def test_staff_opens_tickets_only_for_an_existing_organisation(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    before = uow.committed
    with pytest.raises(InvalidInput) as error:
        service.create_ticket(
            L1, title=TITLE, description="x", type=TicketType.ASSISTANCE, org_id="initech"
        )
    assert error.value.field == "org_id"
    assert uow.committed == before
    assert uow.tickets.tickets == {}


# ------------------------------------------------------------------ actions


def test_take_commits_ticket_event_task_and_mail_together(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    before = uow.committed
    transition = act(service, L1, 1, "take", priority=Priority.HIGH)
    assert uow.committed == before + 1
    stored = uow.tickets.get(1)
    assert transition.ticket == stored
    assert (stored.status, stored.assignee, stored.priority, stored.version) == (
        Status.TAKEN,
        L1.id,
        Priority.HIGH,
        2,
    )
    assert stored.status_label == "Pris en charge"
    assert actions(uow, 1) == ["create", "take"]
    assert uow.tickets.with_tasks(1)[1] == [
        Task(1, "2026-11", "#1 - Création de l'utilisateur Fabrice - Novembre 2026", 0)
    ]
    assert mails_of(uow, 1) == [
        (NotificationKind.CREATED, CLIENT_MAIL),
        (NotificationKind.STAFF_NEW_TICKET, "level 1"),
        (NotificationKind.TAKEN, CLIENT_MAIL),  # L1 took it for themself: no staff mail
    ]
    assert uow.commands == []


def test_take_assigns_only_a_consultant_of_the_level(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service, "incident")  # level 2
    before = uow.committed
    with pytest.raises(InvalidInput) as error:
        act(service, MANAGER, 1, "take", assignee=L1.id)
    assert error.value.field == "assignee"
    assert uow.committed == before
    act(service, MANAGER, 1, "take", assignee=L2B.id)
    assert uow.tickets.get(1).assignee == L2B.id


def test_quote_submission_and_decision_queue_their_commands_with_the_ticket(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service, "evolution")
    act(service, L2, 1, "take")
    act(service, L2, 1, "start")

    before = uow.committed
    submitted = act(service, L2, 1, "submit-quote", amount=Decimal("1200.00"), days=Decimal("3"))
    assert uow.committed == before + 1
    assert uow.tickets.get(1) == submitted.ticket
    assert submitted.ticket.status_label == "En Attente Validation Chiffrage"
    assert uow.commands == [
        WorkflowCommand(
            1, CommandKind.QUOTE_APPROVAL_START, {"quote_version": 1, "validity_days": 30}
        )
    ]
    assert mails_of(uow, 1)[-1] == (NotificationKind.QUOTE_SUBMITTED, CLIENT_MAIL)

    approved = act(service, CLIENT, 1, "approve-quote")
    assert uow.committed == before + 2
    assert approved.ticket.status is Status.IN_REALISATION
    assert uow.commands[1:] == [
        WorkflowCommand(
            1,
            CommandKind.QUOTE_APPROVAL_DECISION,
            {"quote_version": 1, "outcome": "approved", "reason": None},
        )
    ]
    assert mails_of(uow, 1)[-1] == (NotificationKind.ASSIGNEE_QUOTE_APPROVED, f"@{L2.id}")


def test_if_match_of_another_version_is_refused_before_any_write(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    act(service, L1, 1, "take")  # version 2
    before = uow.committed
    with pytest.raises(StaleVersion) as error:
        act(service, L1, 1, "start", expected_version=1)
    assert error.value.current_version == 2
    assert uow.committed == before
    assert uow.tickets.get(1).status is Status.TAKEN


def test_if_match_loses_to_a_writer_between_read_and_commit_412(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    act(service, L1, 1, "take")  # version 2
    before = uow.committed
    uow.interleave(lambda: act(service, L1, 1, "hold"))
    with pytest.raises(StaleVersion) as error:
        act(service, L1, 1, "start", expected_version=2)
    assert error.value.current_version == 3
    assert uow.committed == before + 1  # the other writer's
    stored = uow.tickets.get(1)
    assert (stored.status, stored.version) == (Status.ON_HOLD, 3)
    assert actions(uow, 1) == ["create", "take", "hold"]


def test_status_changed_between_read_and_commit_is_409_with_the_actions_now_allowed(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    before = uow.committed
    uow.interleave(lambda: act(service, CLIENT, 1, "cancel"))
    with pytest.raises(StatusConflict) as error:
        act(service, L1, 1, "take")
    assert error.value.allowed_actions == []  # a closed ticket: nothing left to do
    assert uow.committed == before + 1  # the cancellation alone
    stored = uow.tickets.get(1)
    assert (stored.status, stored.closure_reason) == (Status.CLOSED, ClosureReason.CANCELLED)
    assert actions(uow, 1) == ["create", "cancel"]
    assert uow.tickets.with_tasks(1)[1] == []  # the lost take created no task
    assert NotificationKind.TAKEN not in [kind for kind, _to in mails_of(uow, 1)]


def test_a_version_changed_meanwhile_with_the_same_status_is_retried(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    ticket = answered(service)
    before = uow.committed
    uow.interleave(lambda: service.add_comment(CLIENT, 1, body="Encore une question"))
    transition = act(service, CLIENT, 1, "confirm")
    assert uow.committed == before + 2  # the comment, then the confirmation on top of it
    stored = uow.tickets.get(1)
    assert stored == transition.ticket
    assert (stored.status, stored.closure_reason, stored.version) == (
        Status.CLOSED,
        ClosureReason.CONFIRMED,
        ticket.version + 2,
    )
    assert transition.event.version == ticket.version + 2


# ------------------------------------------------------------------ who sees what


def test_another_organisation_s_ticket_does_not_exist_for_a_client(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    before = uow.committed
    with pytest.raises(NotFound):
        service.get_ticket(OTHER_CLIENT, 1)
    with pytest.raises(NotFound):
        act(service, OTHER_CLIENT, 1, "cancel")
    with pytest.raises(NotFound):
        service.history(OTHER_CLIENT, 1)
    with pytest.raises(NotFound):
        service.comments(OTHER_CLIENT, 1)
    with pytest.raises(NotFound):
        service.add_comment(OTHER_CLIENT, 1, body="Bonjour")
    with pytest.raises(NotFound):  # 404 before the 403 of a client logging time
        service.log_time(OTHER_CLIENT, 1, minutes=10, kind=TimeKind.ANALYSIS)
    assert service.list_tickets(OTHER_CLIENT, TicketQuery(), None, 10) == ([], None)
    assert service.list_tickets(OTHER_CLIENT, TicketQuery(org_id="acme"), None, 10) == (
        [],
        None,
    )
    assert uow.committed == before
    assert uow.tickets.get(1).status is Status.OPEN
    # Its own organisation's client sees it.
    assert service.get_ticket(CLIENT, 1).number == 1
    assert [t.number for t in service.list_tickets(CLIENT, TicketQuery(), None, 10)[0]] == [1]


def test_finance_reaches_no_ticket(service: HelpdeskService, uow: InMemoryUnitOfWork) -> None:
    open_ticket(service)
    before = uow.committed
    with pytest.raises(Forbidden):
        service.get_ticket(FINANCE, 1)
    with pytest.raises(Forbidden):
        service.list_tickets(FINANCE, TicketQuery(), None, 10)
    with pytest.raises(Forbidden):
        act(service, FINANCE, 1, "cancel")
    with pytest.raises(Forbidden):
        service.history(FINANCE, 1)
    with pytest.raises(Forbidden):
        service.comments(FINANCE, 1)
    with pytest.raises(Forbidden):
        service.log_time(FINANCE, 1, minutes=10, kind=TimeKind.ANALYSIS)
    assert uow.committed == before


def test_a_client_never_logs_time_on_its_own_ticket(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    act(service, L1, 1, "take")
    with pytest.raises(Forbidden):
        service.log_time(CLIENT, 1, minutes=10, kind=TimeKind.ANALYSIS)
    assert uow.tickets.with_time_entries(1)[1] == []


def test_directory_is_for_managers_the_role_checked_before_the_fields(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    bad_org = {"name": "", "email_domains": ["not a domain"], "auto_close_days": 0}
    before = uow.committed
    with pytest.raises(Forbidden):
        service.put_org(L1, "acme", **bad_org)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        service.put_consultant(L1, "x", name="", email="not a mail", level=9)
    with pytest.raises(Forbidden):
        service.get_org(L1, "acme")
    with pytest.raises(Forbidden):
        service.list_consultants(CLIENT)
    assert uow.committed == before
    assert uow.directory.get_org("acme") is not None
    assert uow.directory.get_org("acme").auto_close_days == 5  # type: ignore[union-attr]
    # The same fields from a manager are checked (422), so the 403 above came first.
    with pytest.raises(InvalidInput):
        service.put_org(MANAGER, "acme", **bad_org)  # type: ignore[arg-type]
    assert uow.committed == before


def test_a_mail_domain_belongs_to_one_organisation(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    with pytest.raises(InvalidInput) as error:
        service.put_org(MANAGER, "initech", name="Initech", email_domains=["acme.example"])
    assert error.value.field == "email_domains"
    assert uow.directory.get_org("initech") is None  # nothing of the organisation written
    assert uow.directory.org_for_domain("ACME.example") == "acme"


# ------------------------------------------------------------------ comments


def test_client_comment_suspends_the_countdown_until_a_consultant_answers(
    service: HelpdeskService, uow: InMemoryUnitOfWork, clock: Clock
) -> None:
    ticket = answered(service)
    assert ticket.auto_close_at == DUE

    clock.now = NOW + timedelta(days=1)
    before = uow.committed
    service.add_comment(CLIENT, 1, body="Ça ne marche toujours pas.")
    assert uow.committed == before + 1  # the comment and the suspended countdown together
    stored = uow.tickets.get(1)
    assert (stored.status, stored.countdown_suspended, stored.version) == (
        Status.ANSWER_SENT,
        True,
        ticket.version + 1,
    )
    assert [c.body for c in service.comments(L1, 1)] == ["Ça ne marche toujours pas."]

    # Due time passes: nothing closes over an unread reply.
    report = AutoCloseJob(uow).run(DUE + timedelta(days=1))
    assert report.closed == 0
    assert uow.tickets.get(1).status is Status.ANSWER_SENT

    # An internal note is no answer to the client: still suspended.
    service.add_comment(L1, 1, body="Je regarde.", internal=True)
    assert uow.tickets.get(1).countdown_suspended

    # A public reply starts the countdown again: acme's 5 days from it, same Paris time.
    clock.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    service.add_comment(L1, 1, body="Corrigé, pouvez-vous vérifier ?")
    stored = uow.tickets.get(1)
    assert not stored.countdown_suspended
    assert stored.auto_close_at == datetime(2026, 12, 11, 9, 0, tzinfo=UTC)


def test_a_bounce_of_our_mail_is_recorded_and_the_countdown_waits_for_a_consultant(
    service: HelpdeskService, uow: InMemoryUnitOfWork, clock: Clock
) -> None:
    ticket = answered(service)
    clock.now = NOW + timedelta(hours=1)
    transition = service.record_bounce(
        1, recipient="fabrice@acme.example", status="5.1.1", diagnostic="550 unknown user"
    )
    stored = uow.tickets.get(1)
    assert (stored.status, stored.countdown_suspended, stored.version) == (
        Status.ANSWER_SENT,
        True,
        ticket.version + 1,
    )
    event = uow.tickets.history(1)[-1]
    assert event == transition.event
    assert (event.action, event.actor, event.details) == (
        "mail-bounced",
        "system",
        {"recipient": "fabrice@acme.example", "status": "5.1.1", "diagnostic": "550 unknown user"},
    )
    assert mails_of(uow, 1)[-1] == (NotificationKind.STAFF_MAIL_BOUNCED, f"@{L1.id}")

    # Nothing closes in silence: the countdown waits until a consultant acts.
    assert AutoCloseJob(uow).run(DUE + timedelta(days=1)).closed == 0
    clock.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    service.add_comment(L1, 1, body="Je vous appelle.")
    assert uow.tickets.get(1).auto_close_at == datetime(2026, 12, 11, 9, 0, tzinfo=UTC)


def test_a_bounce_on_an_open_ticket_is_recorded_and_tells_its_level(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    service.record_bounce(1, recipient="x@acme.example", status="5.2.2", diagnostic="")
    stored = uow.tickets.get(1)
    assert (stored.status, stored.countdown_suspended, stored.version) == (Status.OPEN, False, 2)
    assert mails_of(uow, 1)[-1] == (NotificationKind.STAFF_MAIL_BOUNCED, "level 1")


# ------------------------------------------------------------------ time


def test_time_lands_on_the_month_task_and_a_locked_month_writes_nothing(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    act(service, L1, 1, "take")
    before = uow.committed
    entry = service.log_time(L1, 1, minutes=90, kind=TimeKind.ANALYSIS, comment="Analyse")
    assert uow.committed == before + 1
    assert entry.day == date(2026, 11, 27)
    assert uow.tickets.with_time_entries(1)[1] == [entry]
    assert [(t.month, t.minutes) for t in uow.tickets.with_tasks(1)[1]] == [("2026-11", 90)]
    assert uow.tickets.get(1).time_spent_minutes == 90

    uow.locked_months.add("2026-11")
    with pytest.raises(MonthLocked):
        service.log_time(L1, 1, minutes=30, kind=TimeKind.REALISATION)
    assert uow.committed == before + 1
    assert uow.tickets.with_time_entries(1)[1] == [entry]
    assert [(t.month, t.minutes) for t in uow.tickets.with_tasks(1)[1]] == [("2026-11", 90)]
    assert uow.tickets.get(1).time_spent_minutes == 90
    assert uow.directory.consultant_day_minutes(L1.id, "2026-11-27") == 90


def test_a_consultant_s_day_holds_24_hours_across_tickets(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    for _ in range(2):
        number = open_ticket(service).number
        act(service, L1, number, "take")
    service.log_time(L1, 1, minutes=1000, kind=TimeKind.ANALYSIS)
    with pytest.raises(InvalidInput) as error:
        service.log_time(L1, 2, minutes=441, kind=TimeKind.ANALYSIS)
    assert error.value.field == "minutes"
    assert uow.tickets.get(2).time_spent_minutes == 0
    service.log_time(L1, 2, minutes=440, kind=TimeKind.ANALYSIS)
    assert uow.directory.consultant_day_minutes(L1.id, "2026-11-27") == 1440


# ------------------------------------------------------------------ jobs


def test_auto_close_closes_due_tickets_and_skips_one_that_moved_on(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    first, second = answered(service), answered(service)
    assert first.auto_close_at == second.auto_close_at == DUE

    # One second early: nothing is due.
    assert AutoCloseJob(uow).run(DUE - timedelta(seconds=1)).closed == 0

    # The client confirms #1 while the job is about to close it.
    uow.interleave(lambda: act(service, CLIENT, first.number, "confirm"))
    report = AutoCloseJob(uow).run(DUE)
    assert (report.closed, report.conflicts, report.closed_tickets) == (1, 1, [second.number])
    closed_first, closed_second = uow.tickets.get(first.number), uow.tickets.get(second.number)
    assert closed_first.closure_reason is ClosureReason.CONFIRMED
    assert (closed_second.status, closed_second.closure_reason, closed_second.closed_at) == (
        Status.CLOSED,
        ClosureReason.AUTO_CLOSED,
        DUE,
    )
    assert actions(uow, second.number)[-1] == "auto-close"
    assert mails_of(uow, second.number)[-2:] == [
        (NotificationKind.CLOSED, CLIENT_MAIL),
        (NotificationKind.STAFF_AUTO_CLOSED, f"@{L1.id}"),  # the assignee, when auto-closed
    ]
    assert [kind for kind, _to in mails_of(uow, first.number)].count(NotificationKind.CLOSED) == 1

    # A rerun finds nothing left to close.
    assert AutoCloseJob(uow).run(DUE).closed == 0


def test_auto_close_reminds_the_client_once_the_day_before(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    answered(service)
    assert AutoCloseJob(uow).run(DUE - timedelta(days=1, seconds=1)).reminded == 0
    assert AutoCloseJob(uow).run(DUE - timedelta(hours=20)).reminded == 1
    assert AutoCloseJob(uow).run(DUE - timedelta(hours=10)).reminded == 0
    kinds = [kind for kind, _to in mails_of(uow, 1)]
    assert kinds.count(NotificationKind.AUTO_CLOSE_REMINDER) == 1
    assert uow.tickets.get(1).status is Status.ANSWER_SENT


def test_task_rollover_gives_taken_tickets_not_closed_the_new_month_task_once(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    open_ticket(service)
    act(service, L1, 1, "take")  # taken: gets December
    open_ticket(service)  # never taken: no task
    closed = answered(service)  # #3, then confirmed: closed, no task
    act(service, CLIENT, closed.number, "confirm")

    first_of_december = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 in Paris
    before = uow.committed
    report = TaskRolloverJob(uow).run(first_of_december)
    assert (report.tasks_created, report.tasks_existing) == (1, 0)
    assert uow.committed == before + 1
    assert uow.tickets.with_tasks(1)[1] == [
        Task(1, "2026-11", "#1 - Création de l'utilisateur Fabrice - Novembre 2026", 0),
        Task(1, "2026-12", "#1 - Création de l'utilisateur Fabrice - Décembre 2026", 0),
    ]
    assert uow.tickets.with_tasks(2)[1] == []
    assert [t.month for t in uow.tickets.with_tasks(3)[1]] == ["2026-11"]

    rerun = TaskRolloverJob(uow).run(first_of_december)
    assert (rerun.tasks_created, rerun.tasks_existing) == (0, 1)
    assert uow.committed == before + 1


@pytest.mark.parametrize("job", [AutoCloseJob, TaskRolloverJob])
@pytest.mark.parametrize(
    "at",
    [
        datetime(1999, 12, 31, 22, 0, tzinfo=UTC),
        datetime(3000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(1969, 7, 21, tzinfo=UTC),
    ],
)
def test_a_run_time_outside_2000_2999_is_refused(
    uow: InMemoryUnitOfWork, job: type[AutoCloseJob | TaskRolloverJob], at: datetime
) -> None:
    with pytest.raises(InvalidInput) as error:
        job(uow).run(at)
    assert error.value.field == "at"


@pytest.mark.parametrize("job", [AutoCloseJob, TaskRolloverJob])
@pytest.mark.parametrize(
    "at", [datetime(2000, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 23, 59, tzinfo=UTC)]
)
def test_a_run_time_inside_2000_2999_runs(
    uow: InMemoryUnitOfWork, job: type[AutoCloseJob | TaskRolloverJob], at: datetime
) -> None:
    assert job(uow).run(at).examined == 0


# ------------------------------------------------------------------ side effects

OWNER_MAIL = f"@{OWNER}"  # a mail to the assignee names the consultant (mails_of's notation)
TASK_88 = TaskEnsured(88, "2026-11", "#88 - Création de l'utilisateur Fabrice - Novembre 2026")
START_1 = WorkflowCommand(
    88, CommandKind.QUOTE_APPROVAL_START, {"quote_version": 1, "validity_days": 30}
)


def in_situation(situation_id: str, ticket_type: str) -> Ticket:
    """Ticket #88 of acme, assigned to OWNER, as tests/unit/builders.py builds it."""
    return build_ticket(ticket_type, next(s for s in SITUATIONS if s.id == situation_id))


def decision(outcome: str, reason: str | None) -> WorkflowCommand:
    data: dict[str, object] = {"quote_version": 1, "outcome": outcome, "reason": reason}
    return WorkflowCommand(88, CommandKind.QUOTE_APPROVAL_DECISION, data)


K = NotificationKind
SIDE_EFFECTS: list[tuple[str, str, Caller, str, dict[str, object], set[tuple[K, str]], object]] = [
    # situation, type, caller, action, body, mails it must queue, then (task, commands)
    ("open", "assistance", L1, "take", {}, {(K.TAKEN, CLIENT_MAIL)}, (TASK_88, [])),
    ("taken", "assistance", MANAGER, "start", {}, set(), (None, [])),
    (
        "in_progress",
        "evolution",
        MANAGER,
        "submit-quote",
        {"amount": Decimal("1200.00")},
        {(K.QUOTE_SUBMITTED, CLIENT_MAIL)},
        (None, [START_1]),
    ),
    (
        "awaiting_quote_approval",
        "evolution",
        CLIENT,
        "approve-quote",
        {},
        {(K.ASSIGNEE_QUOTE_APPROVED, OWNER_MAIL)},
        (None, [decision("approved", None)]),
    ),
    (
        "awaiting_quote_approval",
        "evolution",
        CLIENT,
        "refuse-quote",
        {"reason": "Trop cher"},
        {(K.ASSIGNEE_QUOTE_REFUSED, OWNER_MAIL)},
        (None, [decision("refused", "Trop cher")]),
    ),
    (  # the state machine decided the expiry itself: nothing to resume
        "awaiting_quote_approval",
        "evolution",
        SYSTEM,
        "expire-quote",
        {"quote_version": 1},
        {(K.QUOTE_EXPIRED, CLIENT_MAIL), (K.ASSIGNEE_QUOTE_EXPIRED, OWNER_MAIL)},
        (None, []),
    ),
    (
        "in_progress",
        "incident",
        MANAGER,
        "send-answer",
        {"message": "C'est corrigé."},
        {(K.ANSWER_SENT, CLIENT_MAIL)},
        (None, []),
    ),
    ("answer_sent", "assistance", CLIENT, "confirm", {}, {(K.CLOSED, CLIENT_MAIL)}, (None, [])),
    (
        "answer_sent",
        "assistance",
        MANAGER,
        "close",
        {"note": "Confirmé par téléphone"},
        {(K.CLOSED, CLIENT_MAIL)},
        (None, []),
    ),
    (
        "answer_sent+due",
        "incident",
        SYSTEM,
        "auto-close",
        {},
        {(K.CLOSED, CLIENT_MAIL)},
        (None, []),
    ),
    ("open", "evolution", CLIENT, "cancel", {}, {(K.CLOSED, CLIENT_MAIL)}, (None, [])),
]


@pytest.mark.parametrize(
    ("situation", "ticket_type", "caller", "action", "body", "mails", "queued"),
    SIDE_EFFECTS,
    ids=[f"{row[3]}-{row[1]}" for row in SIDE_EFFECTS],
)
def test_what_a_transition_queues(
    situation: str,
    ticket_type: str,
    caller: Caller,
    action: str,
    body: dict[str, object],
    mails: set[tuple[NotificationKind, str]],
    queued: tuple[TaskEnsured | None, list[WorkflowCommand]],
) -> None:
    ticket = in_situation(situation, ticket_type)
    params = ActionInput(**body)  # type: ignore[arg-type]
    transition = decide(ticket, caller, Action(action), params, ActionContext(now=NOW))
    after = transition.ticket
    changes = side_effects.of_transition(transition)

    # The ticket on condition of its state before, and its history event, first.
    assert changes[:2] == [TicketUpdated(ticket, after), EventRecorded(88, transition.event)]
    task, commands = queued
    assert [c for c in changes if isinstance(c, TaskEnsured)] == ([task] if task else [])
    assert [c.command for c in changes if isinstance(c, CommandQueued)] == commands
    queued_mails = [c for c in changes if isinstance(c, MailQueued)]
    assert mails <= {
        (m.notification.kind, m.notification.to or f"@{m.notification.to_consultant}")
        for m in queued_mails
    }
    if not mails:
        assert queued_mails == []  # `start` tells nobody
    # Outbox items are keyed by the version that caused them, dated with it.
    outbox = [c for c in changes if isinstance(c, MailQueued | CommandQueued)]
    assert {(c.version, c.at) for c in outbox} <= {(ticket.version + 1, NOW)}
    assert len(changes) == 2 + (task is not None) + len(outbox)


def test_a_creation_queues_the_acknowledgement() -> None:
    ticket = base_ticket()
    created, event = TicketDraft(
        title=ticket.title,
        description=ticket.description,
        type=ticket.type,
        org_id=ticket.org_id,
        requester=ticket.requester,
        requester_email=ticket.requester_email,
        created_at=ticket.created_at,
    ).numbered(88)
    changes = side_effects.of_creation(created, event)
    assert changes[0] == TicketCreated(created, event)
    mail, staff = changes[1:]
    assert isinstance(mail, MailQueued) and isinstance(staff, MailQueued)
    assert (mail.notification.kind, mail.notification.to, mail.version, mail.at) == (
        NotificationKind.CREATED,
        CLIENT_MAIL,
        1,
        ticket.created_at,
    )
    assert mail.notification.subject.startswith("[#88]")
    # The active consultants of its level (assistance: level 1) are told too (§8).
    assert (staff.notification.kind, staff.notification.to_level, staff.version) == (
        NotificationKind.STAFF_NEW_TICKET,
        1,
        1,
    )


def test_reminders_are_queued_on_condition_of_the_state_they_remind_of() -> None:
    awaiting = in_situation("awaiting_quote_approval", "evolution")
    check, mail = side_effects.of_quote_reminder(awaiting, 1, 2, NOW)
    assert check == AwaitingQuote(88, 1)
    assert isinstance(mail, MailQueued)
    assert (mail.notification.key, mail.notification.to, mail.version) == (
        "quote_reminder_2",
        CLIENT_MAIL,
        awaiting.version,
    )

    running = in_situation("answer_sent", "assistance")
    reminded, mail = side_effects.of_auto_close_reminder(running, NOW)
    assert reminded == AutoCloseReminded(running, NOW)
    assert isinstance(mail, MailQueued)
    assert (mail.notification.kind, mail.notification.to, mail.version) == (
        NotificationKind.AUTO_CLOSE_REMINDER,
        CLIENT_MAIL,
        running.version,
    )


def test_a_countdown_change_is_the_ticket_alone() -> None:
    running = in_situation("answer_sent", "assistance")
    suspended = replace(running, countdown_suspended=True, version=running.version + 1)
    assert side_effects.of_countdown_change(running, suspended) == [
        TicketUpdated(running, suspended)
    ]


def test_a_comment_on_a_ticket_just_read_reads_it_no_more_and_checks_it_the_same(
    service: HelpdeskService, uow: InMemoryUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`loaded` (mail ingestion read the ticket to thread the mail): no second read, the same
    effect (the client's reply suspends the countdown), and the caller must still see it."""
    ticket = answered(service)
    reads: list[int] = []
    get = uow.tickets.get

    def counted(number: int) -> Ticket:
        reads.append(number)
        return get(number)

    monkeypatch.setattr(uow.tickets, "get", counted)

    service.add_comment(CLIENT, ticket.number, body="Toujours en panne.", loaded=ticket)
    assert reads == []
    assert get(ticket.number).countdown_suspended

    stranger = replace(CLIENT, id="client-globex", org_id="globex")
    with pytest.raises(NotFound):
        service.add_comment(stranger, ticket.number, body="?", loaded=get(ticket.number))
