"""The conversation on a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.domain.calendar import ensure_utc
from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.model import Caller, Role, Source, Ticket
from helpdesk.domain.text import check_text

MAX_BODY = 20000


@dataclass(frozen=True)
class Comment:
    """A message on a ticket, public or internal to the staff."""

    id: str
    ticket_number: int
    author: str
    author_role: str
    body: str
    internal: bool
    at: datetime
    source: Source = Source.API
    message_id: str | None = None


def new_comment(
    ticket: Ticket,
    caller: Caller,
    *,
    comment_id: str,
    body: str,
    internal: bool,
    now: datetime,
    source: Source = Source.API,
    message_id: str | None = None,
) -> Comment:
    if caller.role is Role.FINANCE:
        raise Forbidden("Finance does not take part in ticket conversations.")
    if internal and not caller.is_staff:
        raise InvalidInput("internal", "Only consultants write internal comments.")
    if not body.strip():
        raise InvalidInput("body", "'body' is required.")
    if len(body) > MAX_BODY:
        raise InvalidInput("body", f"'body' must be at most {MAX_BODY} characters.")
    check_text(body, "body")
    return Comment(
        id=comment_id,
        ticket_number=ticket.number,
        author=caller.id,
        author_role=caller.role.value,
        body=body.strip(),
        internal=internal,
        at=ensure_utc(now),
        source=source,
        message_id=message_id,
    )


def visible_to(comment: Comment, caller: Caller) -> bool:
    """Clients never see internal comments."""
    return caller.is_staff or not comment.internal
