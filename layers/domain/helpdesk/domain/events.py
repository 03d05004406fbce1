"""What a workflow transition causes besides the ticket's new state and its history event.

The domain returns these; one module (helpdesk.side_effects) turns them, with the transition,
into the changes a unit of work commits: the month's task, the outbox's mails and commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.domain.model import QuoteOutcome


@dataclass(frozen=True)
class TaskNeeded:
    """The ticket was taken in charge: this month's time task must exist."""

    month: str


@dataclass(frozen=True)
class QuoteSubmitted:
    """A quote version awaits the client: its approval execution starts."""

    quote_version: int


@dataclass(frozen=True)
class QuoteDecided:
    """The pending quote version was approved, refused or expired."""

    quote_version: int
    outcome: QuoteOutcome


DomainEvent = TaskNeeded | QuoteSubmitted | QuoteDecided
