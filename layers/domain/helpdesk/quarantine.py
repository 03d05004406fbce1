"""Mail that did not become a ticket (DESIGN.md §7): the quarantine, read and released by the
managers.

- `entries`: the quarantined messages, newest received first, a page at a time, each with a
  5-minute link to its raw message.
- `release_as_ticket` / `release_as_comment`: the message becomes a ticket of an organisation
  (its sender a client of it, source `email`, title and description exactly as the ingestion
  makes them: helpdesk.mail_ingest) or a comment on a ticket, once. The mail record turns
  `released` (who, when, as what, the ticket or comment) in the SAME transaction as the
  ticket or the comment (`MailReleased`, through the service's `extra`), on condition that it
  is still `quarantined`: of two concurrent releases one commits, the other is 409 and
  writes nothing.

Quarantine itself never answers the sender (no backscatter); a released ticket gets the
acknowledgement every new ticket gets: a manager judged the message legitimate.
Attachments of a released message are listed on the ticket by name, not stored (the raw
message keeps them).

Depends on ports only (helpdesk.ports, helpdesk.ports_mail); composed in
helpdesk.bootstrap_mail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from helpdesk.changes import Change, MailReleased
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.listing import DEFAULT_LIMIT, MAX_LIMIT
from helpdesk.domain.mail import MailOutcomeKind, MalformedMail, ParsedMail, parse_mail
from helpdesk.domain.model import Caller, Source, Ticket, TicketType
from helpdesk.mail_ingest import comment_body, mail_caller, ticket_description, ticket_title
from helpdesk.ports import ConditionNotMet, UnitOfWork
from helpdesk.ports_mail import (
    MailAttachments,
    QuarantinedMail,
    QuarantineRepository,
    RawMailStore,
)
from helpdesk.service import HelpdeskService, new_id, require_manager

AS_TICKET = "ticket"
AS_COMMENT = "comment"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class QuarantineEntry:
    mail: QuarantinedMail
    url: str  # presigned GET of the raw message, 5 minutes


@dataclass(frozen=True)
class Release:
    sha256: str
    released_as: str
    ticket_number: int
    comment_id: str | None
    released_by: str
    released_at: datetime


class Quarantine:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        mail: QuarantineRepository,
        raw: RawMailStore,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
        attachments: MailAttachments | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.mail = mail
        self.raw = raw
        self.clock = clock
        self.ids = ids
        self.attachments = attachments  # the released mail's files become attachments (§11)

    # ---------- reading ----------

    def entries(
        self, caller: Caller, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[QuarantineEntry], str | None]:
        require_manager(caller)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"'limit' must be between 1 and {MAX_LIMIT}.")
        page = self.mail.quarantined(cursor, limit)
        entries = [
            QuarantineEntry(record, self.raw.link(record.s3_bucket, record.s3_key))
            for record in page.items
            # The index is eventually consistent: a release of a moment ago may linger there.
            if record.outcome == MailOutcomeKind.QUARANTINED.value
        ]
        return entries, page.next_cursor

    # ---------- releasing ----------

    def release_as_ticket(
        self, caller: Caller, sha256: str, org_id: str, type: TicketType
    ) -> Release:
        require_manager(caller)
        _record, mail = self._quarantined(sha256)
        uow = self.unit_of_work()
        if uow.directory.get_org(org_id) is None:
            raise InvalidInput("org_id", f"Organisation '{org_id}' does not exist.")
        now = self.clock()
        released: list[MailReleased] = []

        def release(ticket: Ticket) -> Sequence[Change]:
            released[:] = [MailReleased(sha256, caller.id, AS_TICKET, ticket.number, None, now)]
            return released

        service = HelpdeskService(uow, clock=lambda: now)
        try:
            service.create_ticket(
                mail_caller(mail.sender, org_id),
                title=ticket_title(mail),
                description=ticket_description(mail, sha256),
                type=type,
                source=Source.EMAIL,
                extra=release,
                attachments=tuple(a.filename for a in mail.attachments),
                acknowledge=mail.no_reply is None,
            )
        except ConditionNotMet as exc:
            raise self._released_meanwhile(sha256) from exc
        self._attach(mail, released[0])
        return self._release(released[0])

    def release_as_comment(self, caller: Caller, sha256: str, number: int) -> Release:
        require_manager(caller)
        _record, mail = self._quarantined(sha256)
        uow = self.unit_of_work()
        try:
            ticket = uow.tickets.get(number)
        except NotFound as exc:
            raise InvalidInput("ticket", f"Ticket #{number} does not exist.") from exc
        now = self.clock()
        comment_id = self.ids()
        change = MailReleased(sha256, caller.id, AS_COMMENT, number, comment_id, now)
        service = HelpdeskService(uow, clock=lambda: now, ids=lambda: comment_id)
        try:
            service.add_comment(
                mail_caller(mail.sender, ticket.org_id),
                number,
                body=comment_body(mail, sha256),
                source=Source.EMAIL,
                message_id=mail.message_id,
                extra=[change],
                loaded=ticket,  # read above for its organisation: no second read
            )
        except ConditionNotMet as exc:
            raise self._released_meanwhile(sha256) from exc
        self._attach(mail, change)
        return self._release(change)

    def _attach(self, mail: ParsedMail, change: MailReleased) -> None:
        """The released mail's files, as attachments of its ticket or comment (after the
        commit, as the ingestion does; checked at once)."""
        if self.attachments is None or not mail.attachments:
            return
        from helpdesk.attachments import MailFile

        self.attachments.from_mail(
            change.ticket_number,
            change.sha256,
            mail.sender,
            change.at,
            [MailFile(a.filename, a.content_type, a.content) for a in mail.attachments],
            comment_id=change.comment_id,
        )

    def _quarantined(self, sha256: str) -> tuple[QuarantinedMail, ParsedMail]:
        """The quarantined record and its message, parsed; 404 for a message that was never
        quarantined, 409 for one released already or that cannot be read."""
        record = self.mail.find(sha256)
        if record is None or record.outcome not in (
            MailOutcomeKind.QUARANTINED.value,
            MailOutcomeKind.RELEASED.value,
        ):
            raise NotFound(f"No quarantined mail {sha256}.")
        if record.outcome == MailOutcomeKind.RELEASED.value:
            raise self._already_released(record)
        try:
            mail = parse_mail(self.raw.read(record.s3_bucket, record.s3_key))
        except MalformedMail as exc:
            raise Conflict(
                f"The message cannot be read ({exc}): it cannot become a ticket or a comment."
            ) from exc
        return record, mail

    def _released_meanwhile(self, sha256: str) -> Conflict:
        record = self.mail.find(sha256)
        if record is not None and record.outcome == MailOutcomeKind.RELEASED.value:
            return self._already_released(record)
        return Conflict(f"Mail {sha256} is no longer quarantined.")

    @staticmethod
    def _already_released(record: QuarantinedMail) -> Conflict:
        what = (
            f"ticket #{record.ticket_number}"
            if record.released_as == AS_TICKET
            else f"a comment on ticket #{record.ticket_number}"
        )
        return Conflict(
            f"Mail {record.sha256} was already released as {what} by {record.released_by}."
        )

    @staticmethod
    def _release(change: MailReleased) -> Release:
        return Release(
            change.sha256,
            change.released_as,
            change.ticket_number,
            change.comment_id,
            change.released_by,
            change.at,
        )
