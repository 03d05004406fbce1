"""Mail that did not become a ticket (managers; DESIGN.md §7).

- `GET /mail/quarantine`: the quarantined messages, newest first, paged (`limit`, `cursor`),
  each with a 5-minute presigned `url` to its raw message.
- `POST /mail/quarantine/{id}/release`: `{"as": "ticket", "org_id", "type"}` or
  `{"as": "comment", "ticket"}`: the message becomes that ticket or comment, once (409 after).

The use case is helpdesk.quarantine; the quarantine modules are imported on the first
quarantine request, not at cold start (like the billing routes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import Field

from helpdesk.domain.calendar import iso
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.listing import DEFAULT_LIMIT, MAX_LIMIT
from helpdesk.domain.model import TicketType

from .deps import current_caller, ok
from .schemas import Body, Model, responses

if TYPE_CHECKING:
    from helpdesk.quarantine import Quarantine, QuarantineEntry

router = Router()

MailId = Annotated[
    str,
    Path(
        description="the mail record's id: the SHA-256 of the raw message, lower-case hex",
        min_length=64,
        max_length=64,
        pattern="^[0-9a-f]{64}$",
    ),
]


def _quarantine() -> Quarantine:
    from helpdesk import bootstrap_mail

    return bootstrap_mail.quarantine()


class QuarantinedMailOut(Model):
    id: str = Field(description="SHA-256 of the raw message")
    received_at: str | None
    sender: str | None = Field(serialization_alias="from", description="the From address")
    to: list[str] = Field(description="the recipients it was delivered to")
    subject: str | None
    reason: str | None = Field(
        description="oversized, malformed, unknown_sender, unknown_recipient, stranger_reply, "
        "invalid_content"
    )
    detail: str | None
    size: int | None = Field(description="bytes of the raw message")
    message_id: str | None
    defects: str | None = Field(
        default=None,
        description="a broken MIME structure that was read anyway: the defects, and what the "
        "text was salvaged from (the first text part, an HTML part as text, the preamble, the "
        "raw body)",
    )
    url: str = Field(description="presigned GET of the raw message, valid 5 minutes")


class QuarantineList(Model):
    items: list[QuarantinedMailOut]
    next_cursor: str | None


class ReleaseIn(Body):
    as_: Literal["ticket", "comment"] = Field(
        alias="as", description="`ticket` (with `org_id`, `type`) or `comment` (with `ticket`)"
    )
    org_id: str | None = Field(default=None, min_length=1, max_length=128)
    type: TicketType | None = None
    ticket: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        default=None, description="the ticket number the comment goes to"
    )


class ReleaseOut(Model):
    id: str
    outcome: Literal["released"] = "released"
    released_as: str
    ticket_number: int
    comment_id: str | None
    released_by: str
    released_at: str


def _entry_out(entry: QuarantineEntry) -> QuarantinedMailOut:
    mail = entry.mail
    return QuarantinedMailOut(
        id=mail.sha256,
        received_at=mail.received_at,
        sender=mail.sender,
        to=list(mail.to),
        subject=mail.subject,
        reason=mail.reason,
        detail=mail.detail,
        size=mail.size,
        message_id=mail.message_id,
        defects=mail.defects,
        url=entry.url,
    )


def _required(body: ReleaseIn, *fields: str) -> None:
    """The fields of the chosen release, present; those of the other one, absent."""
    others = {"org_id", "type", "ticket"} - set(fields)
    for name in fields:
        if getattr(body, name) is None:
            raise InvalidInput(name, f"'{name}' is required when 'as' is '{body.as_}'.")
    for name in sorted(others):
        if getattr(body, name) is not None:
            raise InvalidInput(name, f"'{name}' is not accepted when 'as' is '{body.as_}'.")


@router.get(
    "/mail/quarantine",
    operation_id="listQuarantine",
    summary="Quarantined inbound mail, newest first (managers)",
    description=(
        "Messages that did not become a ticket or a comment, with why (`reason`) and a "
        "5-minute link to the raw message. Nobody outside is ever answered automatically "
        "about a quarantined message."
    ),
    tags=["mail"],
    responses=responses(200, QuarantineList),
)
def list_quarantine(
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[QuarantineList]:
    entries, next_cursor = _quarantine().entries(current_caller(router), cursor, limit)
    return ok(QuarantineList(items=[_entry_out(e) for e in entries], next_cursor=next_cursor))


@router.post(
    "/mail/quarantine/<id>/release",
    operation_id="releaseQuarantined",
    summary="Release a quarantined message as a ticket or a comment (managers; once)",
    description=(
        "`as: ticket`: a ticket of `org_id` of that `type`, requested by the sender (a client "
        "of that organisation), source `email`, title and description as mail ingestion makes "
        "them; it gets the acknowledgement every new ticket gets (a manager judged the message "
        "legitimate). `as: comment`: a comment of the sender on ticket `ticket`. The mail "
        "record becomes `released` (who, when, as what) in the same transaction; a second "
        "release is 409."
    ),
    tags=["mail"],
    responses=responses(200, ReleaseOut, 404, 409),
)
def release_quarantined(id: MailId, body: ReleaseIn) -> Response[ReleaseOut]:
    caller = current_caller(router)
    quarantine = _quarantine()
    if body.as_ == "ticket":
        _required(body, "org_id", "type")
        assert body.org_id is not None and body.type is not None
        release = quarantine.release_as_ticket(caller, id, body.org_id, body.type)
    else:
        _required(body, "ticket")
        assert body.ticket is not None
        release = quarantine.release_as_comment(caller, id, body.ticket)
    return ok(
        ReleaseOut(
            id=release.sha256,
            released_as=release.released_as,
            ticket_number=release.ticket_number,
            comment_id=release.comment_id,
            released_by=release.released_by,
            released_at=iso(release.released_at),
        )
    )
