"""Scheduled jobs: auto-closure of answered tickets and the monthly task rollover.

Each job takes "now" from its caller (the scheduled event's time), reads only what it must
change through a sparse index, and commits each ticket with its own conditional write, so a
rerun (or a replay of the same event) finishes the rest and duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from helpdesk.adapters import schedule_queries as queries
from helpdesk.adapters.dynamo import DynamoStore, TicketChanged
from helpdesk.domain.calendar import ensure_utc, iso, paris_month, task_title
from helpdesk.domain.errors import ActionNotAllowed
from helpdesk.domain.model import SYSTEM, Status, Ticket
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, Transition, decide

REMINDER_AHEAD = timedelta(days=1)


@dataclass
class JobReport:
    job: str
    at: str
    examined: int = 0
    closed: int = 0
    reminded: int = 0
    tasks_created: int = 0
    tasks_existing: int = 0
    conflicts: int = 0
    items_read: int = 0
    closed_tickets: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class AutoCloseJob:
    """Closes every ticket whose countdown is due; reminds the client one day before.

    The client's messages (closure, reminder) are committed with each change (the outbox).
    """

    def __init__(self, store: DynamoStore) -> None:
        self.store = store

    def run(self, now: datetime) -> JobReport:
        now = ensure_utc(now)
        report = JobReport(job="auto-close", at=iso(now))
        for ticket in queries.due_tickets(self.store, until=now, report=report):
            report.examined += 1
            self._close(ticket, now, report)
        for ticket in queries.due_tickets(
            self.store,
            after=now, until=now + REMINDER_AHEAD, report=report, unreminded_only=True
        ):
            report.examined += 1
            if queries.mark_reminded(self.store, ticket, now):
                report.reminded += 1
            else:
                report.conflicts += 1
        return report

    def _close(self, ticket: Ticket, now: datetime, report: JobReport) -> None:
        try:
            transition: Transition = decide(
                ticket, SYSTEM, Action.AUTO_CLOSE, ActionInput(), ActionContext(now=now)
            )
        except ActionNotAllowed:
            report.conflicts += 1  # the index entry was older than the ticket
            return
        try:
            self.store.commit(transition)
        except TicketChanged:
            report.conflicts += 1  # a confirm, reopen or comment got there first
            return
        report.closed += 1
        report.closed_tickets.append(ticket.number)


class TaskRolloverJob:
    """Gives every ticket taken in charge and not closed the task of the current month."""

    def __init__(self, store: DynamoStore) -> None:
        self.store = store

    def run(self, now: datetime) -> JobReport:
        now = ensure_utc(now)
        month = paris_month(now)
        report = JobReport(job="task-rollover", at=iso(now))
        for ticket in queries.open_tickets(self.store, report=report):
            report.examined += 1
            if ticket.taken_at is None or ticket.status is Status.CLOSED:
                continue
            title = task_title(ticket.number, ticket.title, month)
            if self.store.ensure_task(ticket, month, title):
                report.tasks_created += 1
            else:
                report.tasks_existing += 1
        return report
