"""The one place that decides what a change causes besides itself.

A ticket's creation or transition becomes the changes a unit of work commits together: the
ticket and its history event, the month's time task, and the outbox items (mails to the client
and to staff, DESIGN.md §8; commands to the quote-approval state machine) that the table's
stream hands to the notifier after the commit. A comment's mails are listed here too. Adapters only persist what this module lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from helpdesk.changes import (
    AutoCloseReminded,
    AwaitingQuote,
    BudgetConsumed,
    Change,
    CommandQueued,
    EventRecorded,
    MailQueued,
    SlaMarked,
    TaskEnsured,
    TicketCreated,
    TicketUpdated,
)
from helpdesk.domain import notifications
from helpdesk.domain.budget import BudgetMove
from helpdesk.domain.budget_mail import budget_alerts
from helpdesk.domain.calendar import task_title
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Organisation
from helpdesk.domain.events import QuoteDecided, QuoteSubmitted, TaskNeeded
from helpdesk.domain.model import Caller, HistoryEvent, QuoteOutcome, Ticket
from helpdesk.domain.notifications import Names, Notification
from helpdesk.domain.outbox import CommandKind, WorkflowCommand
from helpdesk.domain.sla import view
from helpdesk.domain.ticket_sla import Alert
from helpdesk.domain.workflow import Transition


def _mails(messages: Sequence[Notification | None], version: int, at: datetime) -> list[Change]:
    return [MailQueued(m, version, at) for m in messages if m is not None]


def of_creation(ticket: Ticket, event: HistoryEvent, acknowledge: bool = True) -> list[Change]:
    """A new ticket, its first event, the requester's acknowledgement (unless `acknowledge` is
    False: bulk or list mail) and the notice to the consultants of its level."""
    mails = notifications.for_creation(ticket, acknowledge)
    return [TicketCreated(ticket, event), *_mails(mails, ticket.version, ticket.created_at)]


def of_transition(transition: Transition, names: Names | None = None) -> list[Change]:
    """An applied action: the ticket, its event, its task, its mails and its commands.
    `names`: display names of roster ids the caller knows (mails name consultants by them)."""
    ticket = transition.ticket
    changes: list[Change] = [
        TicketUpdated(transition.before, ticket),
        EventRecorded(ticket.number, transition.event),
    ]
    needed = transition.caused(TaskNeeded)
    if needed is not None:
        title = task_title(ticket.number, ticket.title, needed.month)
        changes.append(TaskEnsured(ticket.number, needed.month, title))
    mails = notifications.for_transition(transition, names)
    changes += _mails(mails, ticket.version, ticket.updated_at)
    changes += [CommandQueued(c, ticket.version, ticket.updated_at) for c in _commands(transition)]
    return changes


# The decisions that resume the waiting execution (an expiry is the execution's own).
RESUMED_BY = frozenset({QuoteOutcome.APPROVED, QuoteOutcome.REFUSED, QuoteOutcome.WITHDRAWN})


def _commands(transition: Transition) -> list[WorkflowCommand]:
    """The quote-approval state machine is started on a submission and resumed on the
    client's decision. An expiry is decided by the state machine itself: nothing to resume."""
    ticket = transition.ticket
    commands: list[WorkflowCommand] = []
    submitted = transition.caused(QuoteSubmitted)
    if submitted is not None and ticket.quote is not None:
        data: dict[str, object] = {
            "quote_version": submitted.quote_version,
            "validity_days": ticket.quote.validity_days,
        }
        commands.append(WorkflowCommand(ticket.number, CommandKind.QUOTE_APPROVAL_START, data))
    decided = transition.caused(QuoteDecided)
    if decided is not None and decided.outcome in RESUMED_BY:
        quote = next((q for q in ticket.quotes if q.version == decided.quote_version), None)
        data = {
            "quote_version": decided.quote_version,
            "outcome": decided.outcome.value,
            "reason": quote.reason if quote is not None else None,
        }
        commands.append(WorkflowCommand(ticket.number, CommandKind.QUOTE_APPROVAL_DECISION, data))
    return commands


def of_comment(
    ticket: Ticket, comment: Comment, caller: Caller, names: Names | None = None
) -> list[Change]:
    """The mails a comment causes (a staff comment that is not internal to the client, a
    client's to the assignee or the level). `ticket` is the ticket as the comment leaves it;
    each mail is keyed by the comment's id too, since a comment may leave the version as is."""
    mails = notifications.for_comment(ticket, comment, caller, names)
    return _mails(mails, ticket.version, comment.at)


def of_countdown_change(before: Ticket, after: Ticket) -> list[Change]:
    """A ticket change that is not an action (a comment suspends or restarts the countdown)."""
    return [TicketUpdated(before, after)]


def of_quote_reminder(
    ticket: Ticket, quote_version: int, reminder: int, at: datetime
) -> list[Change]:
    """The client's reminder of a pending quote, on condition that it is still pending. Keyed
    by the ticket's version (unchanged while it awaits) and the reminder's number: a retried
    step finds it queued."""
    return [
        AwaitingQuote(ticket.number, quote_version),
        *_mails([notifications.quote_reminder(ticket, reminder)], ticket.version, at),
    ]


def of_auto_close_reminder(ticket: Ticket, at: datetime) -> list[Change]:
    """The client's reminder that the ticket closes tomorrow, recorded once per due time."""
    return [
        AutoCloseReminded(ticket, at),
        *_mails([notifications.reminder(ticket)], ticket.version, at),
    ]


# ------------------------------------------------------------------ service levels (§10)


def of_sla_marks(
    ticket: Ticket, marked: Ticket, alerts: Sequence[Alert], at: datetime
) -> list[Change]:
    """sla-watch's marks on a ticket (and its next look), with one mail per mark to the
    assignee (or the level) and the managers. `ticket` as read, `marked` with the marks."""
    assert ticket.sla is not None
    changes: list[Change] = [SlaMarked(ticket, marked, tuple(a.key for a in alerts))]
    sla = ticket.sla
    mails = [
        notifications.sla_alert(
            ticket,
            alert.clock,
            alert.mark,
            sla.clock(alert.clock).due_at,
            int(view(sla.clock(alert.clock), at, sla.calendar)["remaining_minutes"]),
        )
        for alert in alerts
    ]
    return changes + _mails(mails, ticket.version, at)


# ---------------------------------------------------------------- hour budgets (§10)


def of_budget(
    org: Organisation, ticket: Ticket, moves: Sequence[BudgetMove], at: datetime
) -> list[Change]:
    """Time that consumes an organisation's hour budget: each month counter's move, and the
    alert mails of the thresholds it crosses, committed with the time entry (or its edit).
    The mails are keyed on the ticket's version as the entry's transaction leaves it."""
    changes: list[Change] = []
    for move in moves:
        changes.append(BudgetConsumed(move))
        changes += _mails(budget_alerts(org, ticket, move), ticket.version, at)
    return changes
