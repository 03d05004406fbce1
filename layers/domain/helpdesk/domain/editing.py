"""Editing a ticket's text and priority (DESIGN.md §7 "Editing"): who may change what, the
edited ticket and the history event that records each field's old and new value.

- Staff (consultants, managers) edit `title`, `description` and `priority` of every ticket
  that is not closed (closed: TicketClosed, 409 `ticket-closed`).
- The requester (the client who opened it) edits `title` and `description` of their own
  ticket while it is `open`; later it is 409 (action-not-allowed, no action listed); a
  client changing `priority` is 403, as is a client who is not the requester. (Another
  organisation's ticket is 404 before any of this: helpdesk.service.check_visible.)
- A title follows the rules of creation: control characters and bidirectional overrides
  refused, whitespace folded, 1-200 characters; a description at most 20000 characters.
- An edit that changes nothing is no edit: `decide_edit` returns None (no new version, no
  event); the route answers 200 with the ticket unchanged.

Pure: no AWS. The month tasks that follow a new title are the service's (it knows which
months are exported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from helpdesk.domain.calendar import ensure_utc
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput, TicketClosed
from helpdesk.domain.model import Caller, HistoryEvent, Priority, Role, Status, Ticket
from helpdesk.domain.text import check_text, check_title
from helpdesk.domain.tickets import MAX_DESCRIPTION, MAX_TITLE

EDIT_ACTION = "edit"
EDITABLE = ("title", "description", "priority")


@dataclass(frozen=True)
class TicketChanges:
    """What a PATCH asks: None leaves the field as it is."""

    title: str | None = None
    description: str | None = None
    priority: Priority | None = None

    @property
    def empty(self) -> bool:
        return self.title is None and self.description is None and self.priority is None


@dataclass(frozen=True)
class Edit:
    """A decided edit: the ticket before and after it, and its history event."""

    before: Ticket
    ticket: Ticket
    event: HistoryEvent

    @property
    def retitled(self) -> bool:
        return self.before.title != self.ticket.title


def normalised_title(title: str) -> str:
    # Checked before the spaces are folded, as at creation (domain/tickets.py).
    folded = " ".join(check_title(title, "title").split())
    if not folded:
        raise InvalidInput("title", "'title' is required.")
    if len(folded) > MAX_TITLE:
        raise InvalidInput("title", f"'title' must be at most {MAX_TITLE} characters.")
    return folded


def normalised_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            "description", f"'description' must be at most {MAX_DESCRIPTION} characters."
        )
    return check_text(description, "description").strip()


def check_may_edit(ticket: Ticket, caller: Caller, changes: TicketChanges) -> None:
    """The role first (403), then the ticket's state (409)."""
    if caller.role is Role.CLIENT:
        if changes.priority is not None:
            raise Forbidden("A client does not set the priority; the support team does.")
        if caller.id != ticket.requester:
            raise Forbidden(f"Only the requester of ticket #{ticket.number} edits it.")
    elif not caller.is_staff:
        raise Forbidden(f"A {caller.role.value} does not edit tickets.")
    if ticket.status is Status.CLOSED:
        raise TicketClosed(f"Ticket #{ticket.number} is closed: it is no longer edited.")
    if caller.role is Role.CLIENT and ticket.status is not Status.OPEN:
        raise ActionNotAllowed(
            f"Ticket #{ticket.number} is '{ticket.status.label}' ({ticket.status.value}): "
            "its requester edits it only while it is open.",
            [],
        )


def decide_edit(
    ticket: Ticket, caller: Caller, changes: TicketChanges, now: datetime
) -> Edit | None:
    """The edited ticket and its `edit` event, or None when nothing changes."""
    if changes.empty:
        raise InvalidInput("body", "Give at least one of 'title', 'description', 'priority'.")
    check_may_edit(ticket, caller, changes)
    new = {
        "title": ticket.title if changes.title is None else normalised_title(changes.title),
        "description": ticket.description
        if changes.description is None
        else normalised_description(changes.description),
        "priority": ticket.priority if changes.priority is None else changes.priority,
    }
    old = {"title": ticket.title, "description": ticket.description, "priority": ticket.priority}
    changed = [name for name in EDITABLE if new[name] != old[name]]
    if not changed:
        return None
    at = ensure_utc(now)
    version = ticket.version + 1
    edited = replace(
        ticket,
        title=str(new["title"]),
        description=str(new["description"]),
        priority=Priority(new["priority"]),
        version=version,
        updated_at=at,
    )
    details: dict[str, str] = {}
    for name in changed:
        details[f"{name}.old"] = str(old[name])
        details[f"{name}.new"] = str(new[name])
    event = HistoryEvent(
        version=version,
        at=at,
        actor=caller.id,
        action=EDIT_ACTION,
        from_status=ticket.status,
        to_status=ticket.status,
        details=details,
    )
    return Edit(before=ticket, ticket=edited, event=event)


def time_event(
    ticket: Ticket, caller: Caller, action: str, details: dict[str, str], now: datetime
) -> tuple[Ticket, HistoryEvent]:
    """A time entry changed or deleted: the ticket's next version and its history event."""
    at = ensure_utc(now)
    version = ticket.version + 1
    event = HistoryEvent(
        version=version,
        at=at,
        actor=caller.id,
        action=action,
        from_status=ticket.status,
        to_status=ticket.status,
        details=details,
    )
    return replace(ticket, version=version, updated_at=at), event
