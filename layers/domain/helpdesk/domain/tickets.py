"""Creating a ticket: the draft the store numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.domain.calendar import ensure_utc
from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.model import Caller, HistoryEvent, Role, Source, Status, Ticket, TicketType
from helpdesk.domain.text import check_text, check_title

MAX_TITLE = 200
MAX_DESCRIPTION = 20000


@dataclass(frozen=True)
class TicketDraft:
    """A new ticket before it is numbered: what its requester sent."""

    title: str
    description: str
    type: TicketType
    org_id: str
    requester: str
    requester_email: str
    created_at: datetime
    source: Source = Source.API
    linked_ticket: int | None = None
    attachments: tuple[str, ...] = ()

    def numbered(self, number: int) -> tuple[Ticket, HistoryEvent]:
        """The ticket this draft becomes under `number`, and its first history event."""
        ticket = Ticket(
            number=number,
            title=self.title,
            description=self.description,
            type=self.type,
            org_id=self.org_id,
            requester=self.requester,
            requester_email=self.requester_email,
            source=self.source,
            created_at=self.created_at,
            updated_at=self.created_at,
            support_level=self.type.base_level,
            linked_ticket=self.linked_ticket,
            attachments=self.attachments,
        )
        event = HistoryEvent(
            version=1,
            at=self.created_at,
            actor=self.requester,
            action="create",
            from_status=Status.OPEN,
            to_status=Status.OPEN,
            details={"source": self.source.value},
        )
        return ticket, event


def draft_ticket(
    caller: Caller,
    *,
    title: str,
    description: str,
    type: TicketType,
    org_id: str | None,
    now: datetime,
    source: Source = Source.API,
) -> TicketDraft:
    """Check who may open a ticket for which organisation, and the text fields."""
    if caller.role is Role.CLIENT:
        if org_id is not None and org_id != caller.org_id:
            raise InvalidInput("org_id", "A client opens tickets for its own organisation.")
        org_id = caller.org_id
    elif caller.role in (Role.CONSULTANT, Role.MANAGER, Role.SYSTEM):
        if not org_id:
            raise InvalidInput("org_id", "'org_id' is required when opening for a client.")
    else:
        raise Forbidden(f"A {caller.role.value} does not open tickets.")
    if not org_id:
        raise InvalidInput("org_id", "The caller belongs to no organisation.")
    # Checked before the spaces are folded: str.split() takes some controls for spaces.
    title = " ".join(check_title(title, "title").split())
    if not title:
        raise InvalidInput("title", "'title' is required.")
    if len(title) > MAX_TITLE:
        raise InvalidInput("title", f"'title' must be at most {MAX_TITLE} characters.")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            "description", f"'description' must be at most {MAX_DESCRIPTION} characters."
        )
    check_text(description, "description")
    return TicketDraft(
        title=title,
        description=description.strip(),
        type=type,
        org_id=org_id,
        requester=caller.id,
        requester_email=caller.email,
        created_at=ensure_utc(now),
        source=source,
    )
