"""Scheduled jobs: auto-closure of answered tickets, the monthly task rollover and the
service-level watch.

Each job takes "now" from its caller (the scheduled event's time), reads only what it must
change through a sparse index, and commits each ticket with its own conditional write, so a
rerun (or a replay of the same event) finishes the rest and duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from helpdesk import side_effects
from helpdesk.changes import TaskEnsured
from helpdesk.domain.calendar import ensure_utc, iso, paris_month, task_title
from helpdesk.domain.errors import ActionNotAllowed, Conflict, InvalidInput
from helpdesk.domain.model import SYSTEM, Status, Ticket
from helpdesk.domain.ticket_sla import AT_RISK, MISSED, due_alerts, recorded, with_clocks
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, Transition, decide
from helpdesk.ports import AlreadyExists, CommitFailed, UnitOfWork

REMINDER_AHEAD = timedelta(days=1)
FIRST_YEAR, LAST_YEAR = 2000, 2999


def check_run_time(at: datetime) -> datetime:
    """A job runs "as of" a time of this millennium (a replay for a year 9999 or 1969 is
    a mistake, not a date to close tickets or name tasks by)."""
    at = ensure_utc(at)
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise InvalidInput("at", f"'at' must fall in the years {FIRST_YEAR}-{LAST_YEAR}.")
    return at


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
    sla_at_risk: int = 0
    sla_missed: int = 0
    marked_tickets: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class AutoCloseJob:
    """Closes every ticket whose countdown is due; reminds the client one day before.

    The client's messages (closure, reminder) are committed with each change (the outbox).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def run(self, now: datetime) -> JobReport:
        now = check_run_time(now)
        report = JobReport(job="auto-close", at=iso(now))
        tickets = self.uow.tickets
        for ticket in list(tickets.due_for_auto_close(until=now, counter=report)):
            report.examined += 1
            self._close(ticket, now, report)
        upcoming = tickets.due_for_auto_close(
            after=now, until=now + REMINDER_AHEAD, counter=report, unreminded_only=True
        )
        for ticket in list(upcoming):
            report.examined += 1
            self.uow.add(*side_effects.of_auto_close_reminder(ticket, now))
            try:
                self.uow.commit()
            except (CommitFailed, Conflict):
                report.conflicts += 1  # reminded already, or the ticket moved on
                continue
            report.reminded += 1
        return report

    def _close(self, ticket: Ticket, now: datetime, report: JobReport) -> None:
        try:
            transition: Transition = with_clocks(
                decide(ticket, SYSTEM, Action.AUTO_CLOSE, ActionInput(), ActionContext(now=now)),
                Action.AUTO_CLOSE,
            )
        except ActionNotAllowed:
            report.conflicts += 1  # the index entry was older than the ticket
            return
        self.uow.add(*side_effects.of_transition(transition))
        try:
            self.uow.commit()
        except (CommitFailed, Conflict):
            # A confirm, reopen or comment got there first (or is being written right now):
            # this ticket is skipped, the others are closed, the run does not fail.
            report.conflicts += 1
            return
        report.closed += 1
        report.closed_tickets.append(ticket.number)


class TaskRolloverJob:
    """Gives every ticket taken in charge and not closed the task of the current month."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def run(self, now: datetime) -> JobReport:
        now = check_run_time(now)
        month = paris_month(now)
        report = JobReport(job="task-rollover", at=iso(now))
        for ticket in list(self.uow.tickets.not_closed(report)):
            report.examined += 1
            if ticket.taken_at is None or ticket.status is Status.CLOSED:
                continue
            title = task_title(ticket.number, ticket.title, month)
            self.uow.add(TaskEnsured(ticket.number, month, title, only_if_missing=True))
            try:
                self.uow.commit()
            except AlreadyExists:
                report.tasks_existing += 1
                continue
            report.tasks_created += 1
        return report


class SlaWatchJob:
    """Marks the service-level clocks at risk (75 % of the target used) and missed, and tells
    the assignee and the managers once each (DESIGN.md §10, §8).

    It reads only the tickets with a clock due to be looked at (the sparse `sla_watch`
    index, keyed by that instant), never the others. Each ticket's marks, its next look and
    its mails commit together on condition that the ticket is still at the version read and
    the marks are not recorded yet: a replay with the same `at` finds nothing left to do, and
    a ticket an action moved meanwhile is looked at again by the next run."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def run(self, now: datetime) -> JobReport:
        now = check_run_time(now)
        report = JobReport(job="sla-watch", at=iso(now))
        for ticket in list(self.uow.tickets.sla_watch_due(until=now, counter=report)):
            report.examined += 1
            if ticket.sla is None:  # pragma: no cover - the index holds tickets with clocks
                continue
            alerts = due_alerts(ticket.sla, now)
            marked = replace(ticket, sla=recorded(ticket.sla, alerts))
            self.uow.add(*side_effects.of_sla_marks(ticket, marked, alerts, now))
            try:
                self.uow.commit()
            except (CommitFailed, Conflict):
                report.conflicts += 1  # marked already, or the ticket moved on
                continue
            report.sla_missed += sum(a.mark == MISSED for a in alerts)
            report.sla_at_risk += sum(a.mark == AT_RISK for a in alerts)
            if alerts:
                report.marked_tickets.append(ticket.number)
        return report
