"""Ticket, caller and quote: the values the workflow works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from helpdesk.domain.calendar import paris_month

if TYPE_CHECKING:  # the clocks' module builds on this one
    from helpdesk.domain.ticket_sla import TicketSla


class TicketType(StrEnum):
    ASSISTANCE = "assistance"
    INCIDENT = "incident"
    EVOLUTION = "evolution"

    @property
    def label(self) -> str:
        return TYPE_LABELS[self]

    @property
    def base_level(self) -> int:
        """The support level that takes this type in charge."""
        return 1 if self is TicketType.ASSISTANCE else 2

    @property
    def max_level(self) -> int:
        """The highest level this type may be escalated to."""
        return self.base_level + 1

    @property
    def billed_on_time(self) -> bool:
        """Assistance and incident bill the time spent; evolution bills its quote."""
        return self is not TicketType.EVOLUTION


TYPE_LABELS = {
    TicketType.ASSISTANCE: "Support - Assistance Utilisateur",
    TicketType.INCIDENT: "Support - Incident Applicatif",
    TicketType.EVOLUTION: "Support - Evolution Applicatif",
}


class Status(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    AWAITING_QUOTE_APPROVAL = "awaiting_quote_approval"
    IN_REALISATION = "in_realisation"
    ANSWER_SENT = "answer_sent"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.OPEN: "Ouvert",
    Status.TAKEN: "Pris en charge",
    Status.IN_PROGRESS: "En Cours",
    Status.ON_HOLD: "Un instant",
    Status.AWAITING_QUOTE_APPROVAL: "En Attente Validation Chiffrage",
    Status.IN_REALISATION: "En Cours de Réalisation",
    Status.ANSWER_SENT: "Réponse Envoyée",
    Status.CLOSED: "Fermé",
}


class Source(StrEnum):
    """Where a ticket or a comment came from."""

    API = "api"
    EMAIL = "email"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class ClosureReason(StrEnum):
    CONFIRMED = "confirmed"
    CLOSED_BY_CONSULTANT = "closed_by_consultant"
    AUTO_CLOSED = "auto_closed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


# The closures that bill an evolution's approved quote (not cancelled, not abandoned).
BILLED_CLOSURES = frozenset(
    {ClosureReason.CONFIRMED, ClosureReason.AUTO_CLOSED, ClosureReason.CLOSED_BY_CONSULTANT}
)


class Role(StrEnum):
    CLIENT = "client"
    CONSULTANT = "consultant"
    MANAGER = "manager"
    FINANCE = "finance"
    SYSTEM = "system"


GROUP_ROLES: dict[str, tuple[Role, int | None]] = {
    "clients": (Role.CLIENT, None),
    "consultants-l1": (Role.CONSULTANT, 1),
    "consultants-l2": (Role.CONSULTANT, 2),
    "consultants-l3": (Role.CONSULTANT, 3),
    "managers": (Role.MANAGER, None),
    "finance": (Role.FINANCE, None),
}


@dataclass(frozen=True)
class Caller:
    """Who is acting: from the token's claims, or the system for scheduled jobs."""

    id: str
    role: Role
    email: str = ""
    level: int | None = None
    org_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.CONSULTANT, Role.MANAGER)


SYSTEM = Caller(id="system", role=Role.SYSTEM, email="")


class QuoteOutcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Quote:
    """One version of a change request's quote, and the client's decision on it."""

    version: int
    amount: Decimal
    submitted_by: str
    submitted_at: datetime
    days: Decimal | None = None
    description: str = ""
    validity_days: int = 30
    outcome: QuoteOutcome = QuoteOutcome.PENDING
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def valid_until(self) -> datetime:
        """When the quote expires undecided: exactly `validity_days` after its submission."""
        return self.submitted_at + timedelta(days=self.validity_days)


@dataclass(frozen=True)
class Ticket:
    """A ticket as stored: its workflow state, people, quotes, time and service clocks."""

    number: int
    title: str
    description: str
    type: TicketType
    org_id: str
    requester: str
    created_at: datetime
    updated_at: datetime
    status: Status = Status.OPEN
    support_level: int = 1
    priority: Priority = Priority.NORMAL
    assignee: str | None = None
    version: int = 1
    requester_email: str = ""
    source: Source = Source.API
    held_from: Status | None = None
    taken_at: datetime | None = None
    answered_at: datetime | None = None
    auto_close_at: datetime | None = None
    countdown_suspended: bool = False
    closed_at: datetime | None = None
    closure_reason: ClosureReason | None = None
    quotes: tuple[Quote, ...] = ()
    time_spent_minutes: int = 0
    linked_ticket: int | None = None
    attachments: tuple[str, ...] = field(default=())
    mail_thread: str = ""  # the Message-ID of the mail that created the ticket, if any
    # Available attachments (§11), counted on the ticket item as they become available (not
    # workflow fields: no action writes them): all of them, and those clients see.
    attachments_available: int = 0
    attachments_public: int = 0
    sla: TicketSla | None = None  # the service-level clocks (§10); None: stored before them

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def quote(self) -> Quote | None:
        """The latest quote version, or None."""
        return self.quotes[-1] if self.quotes else None

    @property
    def approved_quote(self) -> Quote | None:
        """The validated quote: the evolution's billing basis, fixed once approved."""
        for quote in self.quotes:
            if quote.outcome is QuoteOutcome.APPROVED:
                return quote
        return None

    @property
    def billing_month(self) -> str | None:
        """An evolution is billed on its approved quote in the month it closes (Paris)."""
        billed = self.status is Status.CLOSED and self.closure_reason in BILLED_CLOSURES
        if billed and self.approved_quote is not None and self.closed_at is not None:
            return paris_month(self.closed_at)
        return None

    @property
    def countdown_running(self) -> bool:
        return (
            self.status is Status.ANSWER_SENT
            and self.auto_close_at is not None
            and not self.countdown_suspended
        )


@dataclass(frozen=True)
class HistoryEvent:
    """One applied action, keyed by the ticket version it produced."""

    version: int
    at: datetime
    actor: str
    action: str
    from_status: Status
    to_status: Status
    details: dict[str, str] = field(default_factory=dict)


def attachments_count(ticket: Ticket, caller: Caller) -> int:
    """The available attachments this caller may see (the ticket item's counters)."""
    if caller.role is Role.CLIENT:
        return ticket.attachments_public
    return ticket.attachments_available
