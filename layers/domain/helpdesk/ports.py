"""The ports the use cases depend on: repositories to read, one unit of work to write.

A use case reads what it needs through the unit of work's repositories, decides with the
domain, `add`s the resulting changes and `commit`s them: one conditional transaction, all or
nothing. The DynamoDB adapter implements these protocols (helpdesk.adapters.dynamodb); the
service tests use an in-memory fake (tests/unit/fakes.py). No use case names a table, an
index or an expression.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from helpdesk.domain.budget import Consumption
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import HistoryEvent, Ticket
from helpdesk.domain.outbox import Delivery
from helpdesk.domain.timekeeping import Task, TimeEntry

if TYPE_CHECKING:  # the changes are built by the writing use cases only (helpdesk.changes)
    from helpdesk.changes import Change

T = TypeVar("T")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, and the cursor of the next one (None: the last)."""

    items: list[T]
    next_cursor: str | None


class ReadCounter(Protocol):
    items_read: int


class TicketRepository(Protocol):
    def get(self, number: int) -> Ticket:
        """The ticket, read consistently; NotFound when there is none."""
        ...

    def get_with_consultant(
        self, number: int, consultant_id: str
    ) -> tuple[Ticket, Consultant | None]: ...

    def history(self, number: int) -> list[HistoryEvent]: ...

    def comments(self, number: int) -> list[Comment]: ...

    def history_page(self, number: int, cursor: str | None, limit: int) -> Page[HistoryEvent]:
        """The ticket's history, oldest first, one page (`cursor` from the page before)."""
        ...

    def comments_page(
        self, number: int, public_only: bool, cursor: str | None, limit: int
    ) -> Page[Comment]:
        """The conversation, oldest first; `public_only` leaves internal notes out."""
        ...

    def time_entries_page(self, number: int, cursor: str | None, limit: int) -> Page[TimeEntry]: ...

    def with_tasks(self, number: int) -> tuple[Ticket, list[Task]]: ...

    def with_time_entries(self, number: int) -> tuple[Ticket, list[TimeEntry]]: ...

    def find(self, query: TicketQuery, cursor: str | None, limit: int) -> Page[Ticket]:
        """One page of the tickets the query matches, in its order; reads grow with the
        candidates of the most selective index, never with the table."""
        ...

    def due_for_auto_close(
        self,
        *,
        until: datetime,
        counter: ReadCounter,
        after: datetime | None = None,
        unreminded_only: bool = False,
    ) -> Iterator[Ticket]:
        """Tickets whose auto-close countdown ends in (after, until]."""
        ...

    def not_closed(self, counter: ReadCounter) -> Iterator[Ticket]: ...

    def sla_watch_due(self, *, until: datetime, counter: ReadCounter) -> Iterator[Ticket]:
        """Tickets with a clock to look at by `until` (the sparse `sla_watch` index, §10)."""
        ...

    def next_number(self) -> int:
        """The number the next ticket would get (the counter + 1); NumberTaken at commit
        when another ticket took it meanwhile."""
        ...

    def next_number_and_org(self, org_id: str) -> tuple[int, Organisation | None]:
        """next_number and the organisation (its contract starts the clocks, §10), in one
        read."""
        ...

    def quote_task_token(self, number: int, quote_version: int) -> str | None:
        """The task token the approval execution of this quote version stored, if any."""
        ...

    def locked_months(self, months: list[str]) -> set[str]:
        """Those of `months` whose billing export locked them (read consistently)."""
        ...


class DirectoryRepository(Protocol):
    def get_org(self, org_id: str) -> Organisation | None: ...

    def org_for_domain(self, domain: str) -> str | None: ...

    def list_orgs(self) -> list[Organisation]: ...

    def get_consultant(self, consultant_id: str) -> Consultant | None: ...

    def list_consultants(self) -> list[Consultant]: ...

    def consultant_day_minutes(self, consultant_id: str, day: str) -> int: ...

    def consumption(self, org_id: str, month: str) -> Consumption:
        """The organisation's hour-budget counter of the month, read consistently (zero
        minutes and no alert when it has none yet)."""
        ...


# ---------------------------------------------------------------- writing: why it failed


class CommitFailed(Exception):
    """The unit of work was not committed: nothing of it was written."""


class TicketChanged(CommitFailed):
    """The ticket's stored state is not the one the change was decided on."""

    def __init__(self, current: Ticket, status_changed: bool) -> None:
        super().__init__(f"ticket #{current.number} changed (version {current.version})")
        self.current = current
        self.status_changed = status_changed


class NumberTaken(CommitFailed):
    """Another ticket took the number meanwhile: number again and retry."""


class AlreadyExists(CommitFailed):
    """A change that creates an item found it there (a retried request, a replay)."""

    def __init__(self, change: object) -> None:
        super().__init__(f"already recorded: {type(change).__name__}")
        self.change = change


class ConditionNotMet(CommitFailed):
    """A check or a conditional update found the stored item otherwise."""

    def __init__(self, change: object) -> None:
        super().__init__(f"condition not met: {type(change).__name__}")
        self.change = change


class BudgetChanged(CommitFailed):
    """An hour-budget counter is not the one the change was decided on."""

    def __init__(self, org_id: str, month: str) -> None:
        super().__init__(f"the hour budget of {org_id} for {month} changed")


class AlreadyRecorded(CommitFailed):
    """The mail (or its Message-ID) was handled by another delivery: nothing applied."""

    def __init__(self, message_taken: bool) -> None:
        super().__init__("message already handled" if message_taken else "mail already handled")
        self.message_taken = message_taken


class UnitOfWork(Protocol):
    @property
    def tickets(self) -> TicketRepository: ...

    @property
    def directory(self) -> DirectoryRepository: ...

    @property
    def links(self) -> LinkRepository: ...

    def add(self, *changes: Change) -> None: ...

    def commit(self) -> None:
        """Write every change added since the last commit, in one transaction (or raise a
        CommitFailed naming the change that failed; nothing is written then)."""
        ...

    def rollback(self) -> None:
        """Forget the changes added since the last commit."""
        ...


# ---------------------------------------------------------------- performing the outbox

OutboxKey = Mapping[str, str]


class DeliveryInProgress(Exception):
    """Another run holds the outbox item's lease; retrying later is the answer."""


class OutboxClaims(Protocol):
    """The lease on outbox items of one channel (pending -> sending -> final)."""

    def claim(
        self, key: OutboxKey, now: datetime, set_once: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The item once claimed; None when it is pending nowhere (final, or leased)."""
        ...

    def delivery(self, key: OutboxKey) -> dict[str, Any]:
        """The item as stored now ({} when absent): why a claim failed."""
        ...

    def release(self, key: OutboxKey) -> None: ...

    def finish(
        self,
        key: OutboxKey,
        now: datetime,
        delivery: Delivery,
        results: Mapping[str, Any] | None = None,
    ) -> None: ...

    def finish_sent_mail(
        self, key: OutboxKey, now: datetime, message_id: str, ticket_number: int, kind: str
    ) -> None:
        """Sent, with the Message-ID -> ticket record that threads the replies."""
        ...


class Mailer(Protocol):
    sender: str

    def send(self, to: str, raw: bytes) -> None: ...


@dataclass(frozen=True)
class LinkGrant:
    """What one action link lets the requester do, and while the ticket is still where the
    mail left it: the same quote version (approve/refuse) or the same answer (confirm/reopen)."""

    ticket_number: int
    action: str  # approve-quote | refuse-quote | confirm | reopen
    quote_version: int | None
    answered_at: datetime | None
    expires_at: datetime


class ActionLinks(Protocol):
    def issue(self, grant: LinkGrant) -> str:
        """Store the grant under the SHA-256 of a new random token (>= 128 bits); return the
        token. Only the hash is stored; the token exists only in the mail."""
        ...


@dataclass(frozen=True)
class StoredLink:
    """An action link as stored: its grant, when it was issued and, once used, when."""

    token_hash: str
    grant: LinkGrant
    issued_at: datetime | None
    used_at: datetime | None


class LinkRepository(Protocol):
    def get(self, token_hash: str) -> StoredLink | None:
        """The link stored under this SHA-256 (one read by key, consistent), or None."""
        ...


class QuoteApprovals(Protocol):
    """The quote-approval state machine's executions."""

    def start(
        self,
        name: str,
        ticket_number: int,
        quote_version: int,
        validity_days: int,
        waits: Sequence[int],
    ) -> bool:
        """Start the execution with its waits in seconds (helpdesk.domain.quote_schedule: a
        reminder after each but the last, the expiry after the last); False when one of that
        name exists already."""
        ...

    def resume(self, task_token: str, decision: str, reason: str | None) -> bool:
        """Resume a waiting execution with the decision; False when nothing waits on it."""
        ...
