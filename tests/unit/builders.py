"""Builders shared by the unit tests of the pure domain: callers, tickets in every status."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from helpdesk.domain.model import (
    Caller,
    ClosureReason,
    Quote,
    QuoteOutcome,
    Role,
    Status,
    Ticket,
    TicketType,
)

# A fixed "now" (a Friday morning in Paris, winter time) and the ticket's creation a week earlier.
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=7)

ORG = "acme"
OTHER_ORG = "globex"
OWNER = "cons-owner"  # the assignee when the caller under test is not the assignee
PICKED = "cons-picked"  # a consultant a manager names on `take`

# Written independently of the domain: the level that takes each type, and its ceiling.
BASE_LEVEL = {"assistance": 1, "incident": 2, "evolution": 2}
MAX_LEVEL = {"assistance": 2, "incident": 3, "evolution": 3}

CLIENT = Caller(id="client-acme", role=Role.CLIENT, org_id=ORG, email="fabrice@acme.example")
OTHER_CLIENT = Caller(
    id="client-globex", role=Role.CLIENT, org_id=OTHER_ORG, email="x@globex.example"
)
MANAGER = Caller(id="manager-1", role=Role.MANAGER, email="boss@consult.example")
FINANCE = Caller(id="finance-1", role=Role.FINANCE, email="finance@consult.example")
SYSTEM = Caller(id="system", role=Role.SYSTEM)


def consultant(level: int, suffix: str = "a") -> Caller:
    """A consultant of the given level; `suffix` tells two consultants of one level apart."""
    return Caller(
        id=f"cons-l{level}-{suffix}",
        role=Role.CONSULTANT,
        level=level,
        email=f"l{level}{suffix}@consult.example",
    )


L1, L2, L3 = consultant(1), consultant(2), consultant(3)
L1B, L2B, L3B = consultant(1, "b"), consultant(2, "b"), consultant(3, "b")


def base_ticket(ticket_type: str = "assistance", **changes: object) -> Ticket:
    """A freshly opened ticket of this type (#88, organisation acme)."""
    ticket = Ticket(
        number=88,
        title="Création de l'utilisateur Fabrice",
        description="Merci de créer l'utilisateur Fabrice.",
        type=TicketType(ticket_type),
        org_id=ORG,
        requester=CLIENT.id,
        requester_email=CLIENT.email,
        created_at=CREATED,
        updated_at=CREATED,
        support_level=BASE_LEVEL[ticket_type],
        version=3,
    )
    return replace(ticket, **changes)  # type: ignore[arg-type]


def quote(
    version: int = 1,
    amount: str = "1200.00",
    outcome: QuoteOutcome = QuoteOutcome.PENDING,
    reason: str | None = None,
) -> Quote:
    return Quote(
        version=version,
        amount=Decimal(amount),
        submitted_by=OWNER,
        submitted_at=CREATED + timedelta(days=1),
        days=Decimal("3"),
        outcome=outcome,
        reason=reason,
    )


@dataclass(frozen=True)
class Situation:
    """A ticket state to build: a status plus what the table's conditions look at."""

    id: str
    status: str
    escalated: bool = False  # at its type's highest level
    unassigned: bool = False  # waiting in the level's queue
    held_from: str | None = None
    quote: str | None = None  # pending | refused | expired | withdrawn | approved
    countdown: str | None = None  # running | due | suspended


SITUATIONS: tuple[Situation, ...] = (
    Situation("open", "open", unassigned=True),
    Situation("taken", "taken"),
    Situation("taken@max", "taken", escalated=True),
    Situation("taken@queue", "taken", escalated=True, unassigned=True),
    Situation("in_progress", "in_progress"),
    Situation("in_progress@max", "in_progress", escalated=True),
    Situation("in_progress@queue", "in_progress", escalated=True, unassigned=True),
    Situation("in_progress+refused_quote", "in_progress", quote="refused"),
    # The approval state machine expired the quote (DESIGN §3): back in progress, abandonable.
    Situation("in_progress+expired_quote", "in_progress", quote="expired"),
    # §7: the assignee took the quote back; the evolution counts as never quoted again.
    Situation("in_progress+withdrawn_quote", "in_progress", quote="withdrawn"),
    Situation("on_hold<taken", "on_hold", held_from="taken"),
    Situation("on_hold<in_progress@max", "on_hold", escalated=True, held_from="in_progress"),
    Situation("awaiting_quote_approval", "awaiting_quote_approval", quote="pending"),
    Situation(
        "awaiting_quote_approval@max", "awaiting_quote_approval", escalated=True, quote="pending"
    ),
    Situation("in_realisation", "in_realisation", quote="approved"),
    Situation("in_realisation@max", "in_realisation", escalated=True, quote="approved"),
    Situation("answer_sent", "answer_sent", countdown="running"),
    Situation("answer_sent@max", "answer_sent", escalated=True, countdown="running"),
    Situation("answer_sent+due", "answer_sent", countdown="due"),
    Situation("answer_sent+due+suspended", "answer_sent", countdown="suspended"),
    Situation("closed", "closed"),
)


def build_ticket(ticket_type: str, situation: Situation, assignee: str | None = OWNER) -> Ticket:
    """A ticket of this type in this situation, assigned to `assignee` unless unassigned."""
    ticket = base_ticket(ticket_type)
    if situation.status == "open":
        return ticket
    level = MAX_LEVEL[ticket_type] if situation.escalated else BASE_LEVEL[ticket_type]
    ticket = replace(
        ticket,
        status=Status(situation.status),
        support_level=level,
        assignee=None if situation.unassigned else assignee,
        taken_at=CREATED + timedelta(hours=1),
        held_from=Status(situation.held_from) if situation.held_from else None,
    )
    if situation.quote is not None:
        outcome = QuoteOutcome(situation.quote)
        reason = "Trop cher" if outcome is QuoteOutcome.REFUSED else None
        ticket = replace(ticket, quotes=(quote(1, outcome=outcome, reason=reason),))
    if situation.countdown is not None:
        due = NOW + timedelta(days=5) if situation.countdown == "running" else NOW
        ticket = replace(
            ticket,
            answered_at=due - timedelta(days=7),
            auto_close_at=due,
            countdown_suspended=situation.countdown == "suspended",
        )
    if situation.status == "closed":
        ticket = replace(ticket, closure_reason=ClosureReason.CONFIRMED, closed_at=NOW)
    return ticket
