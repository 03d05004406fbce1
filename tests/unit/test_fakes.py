"""The in-memory unit of work keeps the port's contract (helpdesk.ports), as the DynamoDB
adapter does: all or nothing, the same failures, the worst one reported."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from helpdesk.changes import (
    AutoCloseReminded,
    AwaitingQuote,
    EventRecorded,
    MailHandled,
    MailQueued,
    OrgSaved,
    TaskEnsured,
    TicketCreated,
    TicketUpdated,
    TimeLogged,
)
from helpdesk.domain import notifications
from helpdesk.domain.directory import new_organisation
from helpdesk.domain.errors import Conflict, InvalidInput, MonthLocked
from helpdesk.domain.mail import MailOutcome
from helpdesk.domain.model import HistoryEvent, Status, Ticket
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind
from helpdesk.ports import (
    AlreadyExists,
    AlreadyRecorded,
    ConditionNotMet,
    NumberTaken,
    TicketChanged,
    TicketQuery,
)
from tests.unit.builders import NOW, OWNER, SITUATIONS, base_ticket, build_ticket
from tests.unit.fakes import InMemoryUnitOfWork

NUMBER = 88


class Counter:
    items_read = 0


def situation(status_id: str, ticket_type: str = "assistance") -> Ticket:
    return build_ticket(ticket_type, next(s for s in SITUATIONS if s.id == status_id))


def stored(uow: InMemoryUnitOfWork, ticket: Ticket) -> Ticket:
    """Arrange: the ticket as the table holds it."""
    uow.tickets.tickets[ticket.number] = ticket
    return ticket


def event(version: int) -> HistoryEvent:
    return HistoryEvent(version, NOW, OWNER, "start", Status.TAKEN, Status.IN_PROGRESS)


def entry(minutes: int = 60, entry_id: str = "e1", day: date = date(2026, 11, 27)) -> TimeEntry:
    return TimeEntry(
        id=entry_id,
        ticket_number=NUMBER,
        org_id="acme",
        consultant=OWNER,
        day=day,
        minutes=minutes,
        kind=TimeKind.ANALYSIS,
        comment="",
        billable=True,
        created_at=NOW,
    )


def mail(ticket: Ticket, version: int) -> MailQueued:
    message = notifications.reminder(ticket)
    assert message is not None
    return MailQueued(message, version, NOW)


def test_nothing_is_applied_when_one_change_fails() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("taken"))
    stale = replace(ticket, version=ticket.version - 1)
    after = replace(ticket, status=Status.IN_PROGRESS, version=ticket.version + 1)
    uow.add(mail(after, after.version), EventRecorded(NUMBER, event(after.version)))
    uow.add(TicketUpdated(stale, after))
    with pytest.raises(TicketChanged) as error:
        uow.commit()
    assert (error.value.current, error.value.status_changed) == (ticket, False)
    assert (uow.tickets.outbox, uow.tickets.events, uow.committed) == ({}, {}, 0)
    assert uow.tickets.get(NUMBER) == ticket
    uow.commit()  # the failed changes are forgotten, as by the adapter
    assert uow.committed == 0


def test_ticket_changed_tells_a_status_change_and_beats_the_other_failures() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("in_progress"))
    uow.tickets.events[(NUMBER, 4)] = event(4)
    taken = replace(ticket, status=Status.TAKEN)
    uow.add(EventRecorded(NUMBER, event(4)), TicketUpdated(taken, replace(ticket, version=4)))
    with pytest.raises(TicketChanged) as error:
        uow.commit()
    assert error.value.status_changed is True


def test_the_stored_ticket_keeps_its_time_spent_through_an_update() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, replace(situation("taken"), time_spent_minutes=90))
    after = replace(ticket, status=Status.IN_PROGRESS, version=ticket.version + 1)
    uow.add(TicketUpdated(ticket, replace(after, time_spent_minutes=0)))
    uow.commit()
    assert uow.tickets.get(NUMBER) == replace(after, time_spent_minutes=90)
    assert uow.committed == 1


def test_numbers_follow_the_counter() -> None:
    uow = InMemoryUnitOfWork()
    first = replace(base_ticket(), number=1, version=1)
    created = event(1)
    uow.add(TicketCreated(replace(first, number=2), created))
    with pytest.raises(NumberTaken):
        uow.commit()
    assert uow.tickets.next_number() == 1
    uow.add(TicketCreated(first, created))
    uow.commit()
    assert (uow.tickets.next_number(), uow.tickets.history(1)) == (2, [created])
    uow.add(TicketCreated(first, created))
    with pytest.raises(NumberTaken):
        uow.commit()


def test_time_logged_failures_worst_first_and_nothing_written() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("in_progress"))
    uow.tickets.entries[(NUMBER, "e1")] = entry()
    uow.directory.day_minutes[(OWNER, "2026-11-27")] = 1400
    uow.locked_months.add("2026-11")
    change = TimeLogged(entry(60), ticket, "#88 - titre - Novembre 2026")
    fixes = [uow.locked_months.clear, uow.directory.day_minutes.clear, lambda: None]
    for expected, fix in zip((MonthLocked, InvalidInput, Conflict), fixes, strict=True):
        uow.add(change)
        with pytest.raises(expected):
            uow.commit()
        fix()
    assert uow.tickets.tasks == {}
    assert uow.tickets.get(NUMBER).time_spent_minutes == 0

    uow.add(TimeLogged(entry(60, "e2"), ticket, "#88 - titre - Novembre 2026"))
    uow.commit()
    assert uow.tickets.tasks == {
        (NUMBER, "2026-11"): Task(NUMBER, "2026-11", "#88 - titre - Novembre 2026", 60)
    }
    assert uow.tickets.get(NUMBER).time_spent_minutes == 60
    assert uow.directory.consultant_day_minutes(OWNER, "2026-11-27") == 60


def test_time_on_a_ticket_never_taken_is_a_conflict() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("open"))
    uow.add(TimeLogged(entry(), ticket, "titre"))
    with pytest.raises(Conflict):
        uow.commit()


def test_a_task_is_ensured_once() -> None:
    uow = InMemoryUnitOfWork()
    uow.tickets.tasks[(NUMBER, "2026-11")] = Task(NUMBER, "2026-11", "ancien", 30)
    uow.add(TaskEnsured(NUMBER, "2026-11", "nouveau"), TaskEnsured(NUMBER, "2026-12", "Décembre"))
    uow.commit()
    assert sorted(uow.tickets.tasks.values(), key=lambda t: t.month) == [
        Task(NUMBER, "2026-11", "ancien", 30),
        Task(NUMBER, "2026-12", "Décembre", 0),
    ]
    uow.add(TaskEnsured(NUMBER, "2026-12", "Décembre", only_if_missing=True))
    with pytest.raises(AlreadyExists):
        uow.commit()


def test_an_outbox_item_is_queued_once_per_version_and_kind() -> None:
    uow = InMemoryUnitOfWork()
    ticket = situation("answer_sent")
    uow.add(mail(ticket, 4))
    uow.commit()
    uow.add(mail(ticket, 5))
    uow.commit()
    uow.add(mail(ticket, 5))
    with pytest.raises(AlreadyExists):
        uow.commit()
    assert [m.kind for m in uow.mails] == [notifications.NotificationKind.AUTO_CLOSE_REMINDER] * 2


def test_awaiting_quote_checks_the_status_and_the_version() -> None:
    uow = InMemoryUnitOfWork()
    stored(uow, situation("awaiting_quote_approval", "evolution"))
    uow.add(AwaitingQuote(NUMBER, 1))
    uow.commit()
    uow.add(AwaitingQuote(NUMBER, 2))
    with pytest.raises(ConditionNotMet):
        uow.commit()
    stored(uow, situation("in_progress+refused_quote", "evolution"))
    uow.add(AwaitingQuote(NUMBER, 1))
    with pytest.raises(ConditionNotMet):
        uow.commit()


def test_an_auto_close_reminder_is_recorded_once_per_due_time() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("answer_sent"))
    assert ticket.auto_close_at is not None

    def due(unreminded_only: bool) -> list[Ticket]:
        until = NOW + timedelta(days=30)
        found = uow.tickets.due_for_auto_close(
            until=until, counter=Counter(), unreminded_only=unreminded_only
        )
        return list(found)

    uow.add(AutoCloseReminded(ticket, NOW))
    uow.commit()
    assert (due(unreminded_only=True), due(unreminded_only=False)) == ([], [ticket])
    uow.add(AutoCloseReminded(ticket, NOW))
    with pytest.raises(ConditionNotMet):
        uow.commit()
    # A countdown started again is a new due time: to be reminded of, once.
    later = stored(uow, replace(ticket, auto_close_at=ticket.auto_close_at + timedelta(days=2)))
    assert due(unreminded_only=True) == [later]
    uow.add(AutoCloseReminded(replace(later, version=later.version - 1), NOW))
    with pytest.raises(ConditionNotMet):
        uow.commit()
    uow.add(AutoCloseReminded(later, NOW))
    uow.commit()


def test_a_mail_is_handled_once_with_its_effect() -> None:
    uow = InMemoryUnitOfWork()
    outcome = MailOutcome("ticket_created", ticket_number=1)
    uow.add(MailHandled("sha-1", "<m1@acme.example>", outcome, NOW))
    uow.commit()
    created = TicketCreated(replace(base_ticket(), number=1, version=1), event(1))
    for sha, message_id, taken in (("sha-1", None, False), ("sha-2", "<m1@acme.example>", True)):
        uow.add(created, MailHandled(sha, message_id, outcome, NOW))
        with pytest.raises(AlreadyRecorded) as error:
            uow.commit()
        assert error.value.message_taken is taken
    assert uow.tickets.tickets == {}


def test_a_mail_domain_belongs_to_one_organisation() -> None:
    uow = InMemoryUnitOfWork()
    acme = new_organisation("acme", "Acme", ["acme.example", "acme.fr"])
    uow.add(OrgSaved(acme, None))
    uow.commit()
    initech = new_organisation("initech", "Initech", ["acme.fr"])
    uow.add(OrgSaved(initech, None))
    with pytest.raises(InvalidInput):
        uow.commit()
    assert uow.directory.get_org("initech") is None
    smaller = new_organisation("acme", "Acme", ["acme.example"])
    uow.add(OrgSaved(smaller, acme))
    uow.commit()
    uow.add(OrgSaved(initech, None))
    uow.commit()
    assert uow.directory.org_for_domain("ACME.FR") == "initech"
    assert uow.directory.org_for_domain("acme.example") == "acme"


def test_one_transaction_never_names_an_item_twice() -> None:
    uow = InMemoryUnitOfWork()
    ticket = stored(uow, situation("answer_sent"))
    uow.add(AutoCloseReminded(ticket, NOW), TicketUpdated(ticket, ticket))
    with pytest.raises(ValueError, match="twice"):
        uow.commit()


def test_reading_newest_first_by_pages_and_the_schedules() -> None:
    uow = InMemoryUnitOfWork()
    for number, status_id in (
        (1, "open"),
        (2, "answer_sent+due"),
        (3, "closed"),
        (4, "answer_sent"),
    ):
        stored(uow, replace(situation(status_id), number=number))
    page = uow.tickets.find(TicketQuery(org_id="acme"), None, 3)
    assert ([t.number for t in page.items], page.next_cursor is not None) == ([4, 3, 2], True)
    rest = uow.tickets.find(TicketQuery(org_id="acme"), page.next_cursor, 3)
    assert ([t.number for t in rest.items], rest.next_cursor) == ([1], None)
    assert [
        t.number for t in uow.tickets.find(TicketQuery(statuses=frozenset({Status.OPEN})), None, 10).items
    ] == [1]
    with pytest.raises(InvalidInput):
        uow.tickets.find(TicketQuery(), "not a cursor", 10)

    counter = Counter()
    assert [t.number for t in uow.tickets.due_for_auto_close(until=NOW, counter=counter)] == [2]
    later = uow.tickets.due_for_auto_close(
        until=NOW + timedelta(days=5), after=NOW, counter=counter
    )
    assert [t.number for t in later] == [4]
    assert [t.number for t in uow.tickets.not_closed(counter)] == [1, 2, 4]
    assert counter.items_read == 5
