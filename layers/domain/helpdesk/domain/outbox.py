"""What the outbox holds besides mail: commands to the quote-approval state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    """How an outbox item is performed: a mail (SES), or a workflow command (Step Functions)."""

    MAIL = "mail"  # an outbox item without `channel` is a mail (items stored before it)
    WORKFLOW = "workflow"


class CommandKind(StrEnum):
    QUOTE_APPROVAL_START = "quote_approval_start"  # data: quote_version, validity_days
    QUOTE_APPROVAL_DECISION = "quote_approval_decision"  # data: quote_version, outcome, reason


class Delivery(StrEnum):
    """An outbox item's state: pending -> sending (leased) -> sent | no_recipient."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    NO_RECIPIENT = "no_recipient"


@dataclass(frozen=True)
class WorkflowCommand:
    """A command to the quote-approval state machine, queued with its cause."""

    ticket_number: int
    kind: CommandKind
    data: dict[str, object] = field(default_factory=dict)
