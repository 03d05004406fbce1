"""The changes a use case adds to its unit of work (helpdesk.ports.UnitOfWork), each committed
with the others as one conditional transaction.

Apart from the ports so that a request that only reads (a ticket, a list) never builds these
classes: the service imports them in the methods that write, the DynamoDB adapter in its
commit (bench/results.md, Cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from helpdesk.domain.budget import BudgetMove
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.model import HistoryEvent, Ticket
from helpdesk.domain.outbox import WorkflowCommand
from helpdesk.domain.timekeeping import TimeEntry

if TYPE_CHECKING:  # types only: a cold start that reads needs neither the mail parser nor mails
    from helpdesk.domain.mail import MailOutcome
    from helpdesk.domain.notifications import Notification


@dataclass(frozen=True)
class TicketCreated:
    """A new ticket, numbered with the counter's next value, and its first history event."""

    ticket: Ticket
    event: HistoryEvent


@dataclass(frozen=True)
class TicketUpdated:
    """`after` replaces `before`, on condition that `before` (version and status) is stored.

    Fails with TicketChanged (carrying the stored ticket) otherwise.
    """

    before: Ticket
    after: Ticket


@dataclass(frozen=True)
class EventRecorded:
    ticket_number: int
    event: HistoryEvent


@dataclass(frozen=True)
class TaskEnsured:
    """The month's time task exists: created if missing, never twice. Never fails, unless
    `only_if_missing` (AlreadyExists then: the caller counts what it created)."""

    ticket_number: int
    month: str
    title: str
    only_if_missing: bool = False


@dataclass(frozen=True)
class CommentAdded:
    comment: Comment


@dataclass(frozen=True)
class TimeLogged:
    """The entry, its task's and ticket's totals, the consultant's day (never over 24 h) and
    the check that its month is not locked. Fails with MonthLocked, InvalidInput("minutes")
    when the day would pass 24 h, or Conflict (the entry is recorded already, or the ticket
    was never taken)."""

    entry: TimeEntry
    ticket: Ticket
    task_title: str


@dataclass(frozen=True)
class MailQueued:
    """A message to send, stored with the change that causes it (the transactional outbox).

    Fails with AlreadyExists when the same message (ticket, version, kind) is queued already.
    """

    notification: Notification
    version: int
    at: datetime


@dataclass(frozen=True)
class CommandQueued:
    """A command to the quote-approval state machine, stored with the change causing it."""

    command: WorkflowCommand
    version: int
    at: datetime


@dataclass(frozen=True)
class AwaitingQuote:
    """A check, no write: the ticket still awaits the client's decision on this version."""

    ticket_number: int
    quote_version: int


@dataclass(frozen=True)
class AutoCloseReminded:
    """The client's reminder for this due time is recorded on the ticket (once)."""

    ticket: Ticket
    at: datetime


@dataclass(frozen=True)
class SlaMarked:
    """Service-level marks (`<clock>:<mark>`) recorded on the ticket by sla-watch, and its
    next look; on condition that the ticket is still at the version read and that none of
    them is recorded yet (ConditionNotMet otherwise). The version is left as is: a mark is
    the schedule's note, not a change anyone's If-Match should trip on."""

    ticket: Ticket  # as read
    marked: Ticket  # with the marks recorded (its next look follows from them)
    marks: tuple[str, ...]


@dataclass(frozen=True)
class MailHandled:
    """An inbound mail's outcome, and its Message-ID marked handled: on condition that
    neither was yet (AlreadyRecorded otherwise), so a mail's effect and "this mail was
    handled" commit together or not at all."""

    sha256: str
    message_id: str | None
    outcome: MailOutcome
    at: datetime
    # When the mail was first seen (ISO 8601, as its record keeps it): a quarantined mail's
    # place in the quarantine index. None: read from the record.
    received_at: str | None = None


@dataclass(frozen=True)
class OrgSaved:
    org: Organisation
    previous: Organisation | None


@dataclass(frozen=True)
class ConsultantSaved:
    consultant: Consultant


@dataclass(frozen=True)
class MailReleased:
    """A quarantined mail turned into a ticket or a comment by a manager: the mail record's
    outcome becomes `released` (who, when, as what, which ticket or comment), on condition
    that it is still `quarantined` (ConditionNotMet otherwise: it was released already)."""

    sha256: str
    released_by: str
    released_as: str  # "ticket" or "comment"
    ticket_number: int
    comment_id: str | None
    at: datetime


@dataclass(frozen=True)
class TaskRenamed:
    """A month task follows the ticket's new title, on condition that the task exists
    (ConditionNotMet) and its month is still not locked (MonthLocked): an exported month
    keeps its title."""

    ticket_number: int
    month: str
    title: str


@dataclass(frozen=True)
class TimeEntryChanged:
    """A time entry changed (`after`) or deleted (`after` None): the entry, the ticket's next
    version (`ticket_after`, on condition that `ticket_before` is stored: TicketChanged) and
    its total, the task minutes of each month involved (the new month's task is created with
    `task_title` when missing), the author's day totals (never over 24 h: InvalidInput
    "minutes"), and the checks that the months involved are not locked (MonthLocked). The
    entry gone meanwhile is NotFound."""

    before: TimeEntry
    after: TimeEntry | None
    ticket_before: Ticket
    ticket_after: Ticket
    task_title: str

    @property
    def minutes_delta(self) -> int:
        return (self.after.minutes if self.after else 0) - self.before.minutes


@dataclass(frozen=True)
class LinkUsed:
    """An action link marked used (`used_at`), on condition that it exists and was not used
    yet (ConditionNotMet otherwise): committed with the action it performs, so of two uses
    exactly one wins."""

    token_hash: str
    at: datetime


@dataclass(frozen=True)
class BudgetConsumed:
    """An organisation's month counter moves by `move.delta` minutes and records the alerts
    of `move.alerts`, on condition that it is still `move.before` (same minutes, same alerts):
    BudgetChanged otherwise (read it again, decide again). Committed with the time entry (or
    edit) that consumes, and the alert mails, in one transaction."""

    move: BudgetMove


Change = (
    TicketCreated
    | TicketUpdated
    | EventRecorded
    | TaskEnsured
    | CommentAdded
    | TimeLogged
    | MailQueued
    | CommandQueued
    | AwaitingQuote
    | AutoCloseReminded
    | MailHandled
    | OrgSaved
    | ConsultantSaved
    | TaskRenamed
    | TimeEntryChanged
    | MailReleased
    | LinkUsed
    | SlaMarked
    | BudgetConsumed
)
