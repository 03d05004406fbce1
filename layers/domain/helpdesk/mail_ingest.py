"""Inbound mail → a ticket, a comment, or a recorded reason why not (the ingestion use case).

Every message received gets a mail record (`MAIL#<sha256 of the raw bytes>`) holding the S3 key
of the raw message, which is never deleted, and ends with one outcome:

- `ticket_created` (with `linked_ticket` when it answers a closed ticket), `comment_added`;
- `duplicate`: the same Message-ID was already handled (another delivery of the message);
- `bounce_recorded`: a delivery report (RFC 3464) saying that a mail we sent (its Message-ID
  in the report) could not be delivered: `mail-bounced` in that ticket's history, the assignee
  told, the auto-close countdown suspended until a consultant acts;
- `ignored_auto_reply`: an auto-reply or another bounce (RFC 3834...): recorded, nothing
  created, nothing sent back. Bulk and list mail (`Precedence: bulk|list|junk`, `List-Id`,
  `List-Unsubscribe`) is not: it becomes a ticket or a comment like any mail, but the requester
  gets no acknowledgement (the record's `no_reply` says why);
- `rate_limited`: the sender sent more than the limit this hour;
- a message whose MIME structure is broken but whose text can be read (the first text part, an
  HTML part as text, the preamble, the raw body: helpdesk.domain.mail) is handled like any
  other; its record keeps `defects` (what was wrong, what was salvaged). Only what cannot be
  read at all is quarantined as `malformed`;
- `quarantined` with a reason: `oversized`, `malformed`, `unknown_sender`,
  `unknown_recipient`, `stranger_reply` (a reply from outside the ticket's organisation),
  `invalid_content`;
- `failed` (not final): an error; transient errors (a concurrent change, and what the
  `transient` classification given says: throttling, the network...) are re-raised so that
  Lambda retries.

Exactly once, even across crashes and concurrent deliveries
-----------------------------------------------------------
1. `begin` puts the mail record `pending` if absent. A record already final means this exact
   message was handled: its outcome is returned (a replay of the same bytes changes nothing),
   after finishing the one step that follows the commit (storing attachments), if pending.
2. The decision is recomputed from the message and the table on every attempt: it depends
   only on stored state, so a retry decides the same thing, or something equivalent.
3. The effect (ticket creation with its counter, history and acknowledgement; or the comment
   with the countdown change) is ONE unit of work (helpdesk.ports), committed by the service
   with the outcome added to it (`MailHandled`, through the service's `extra`): the mail record
   turns final on condition that it is `pending`/`failed`, and the Message-ID is marked handled
   on condition that it was not yet. So the effect and "this message was handled" commit
   together or not at all:
   - a crash before the commit leaves the record `pending`: the retry does it all again;
   - a crash after the commit leaves it final: the retry returns the outcome (step 1);
   - two concurrent deliveries (the same bytes twice, or the same Message-ID in different
     bytes) race on those conditions: one transaction wins, the other is cancelled whole
     (AlreadyRecorded) and records `duplicate` (or finds the final record).
   Outcomes without an effect are the same unit of work with no effect in it.
4. Attachments become attachments of the ticket, or of the comment the mail made (DESIGN.md
   §11, source `email`), after the commit (their key needs the ticket number): each is
   recorded, stored at `tickets/<n>/attachments/<id>` and checked like an upload
   (helpdesk.attachments.AttachmentService.from_mail). The mail record keeps
   `attachments_pending` until that is done, and any later delivery of the bytes resumes it;
   the ids derive from the mail and the file's rank, so a resumed step adds nothing twice.
The sender's hourly counter is the one write outside this scheme: a crash between counting and
the commit counts that message twice (its own rank is kept on the record and reused).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from helpdesk.changes import Change, MailHandled
from helpdesk.domain.comments import MAX_BODY
from helpdesk.domain.errors import Conflict, DomainError, NotFound, StaleVersion
from helpdesk.domain.mail import (
    NO_SUBJECT,
    Attachment,
    MailOutcome,
    MailOutcomeKind,
    MailRouting,
    MalformedMail,
    ParsedMail,
    parse_mail,
    strip_quoted,
)
from helpdesk.domain.model import Caller, Role, Source, Status, Ticket, TicketType
from helpdesk.domain.text import clean_text, clean_title
from helpdesk.domain.tickets import MAX_DESCRIPTION, MAX_TITLE
from helpdesk.ports import AlreadyRecorded, UnitOfWork
from helpdesk.ports_mail import MailAttachments, MailRecord, MailRepository
from helpdesk.service import HelpdeskService, new_id

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_RATE_LIMIT = 20  # messages per sender per hour
MAX_DETAIL = 1000  # characters of an outcome's detail a mail record keeps

Kind = MailOutcomeKind
TransientCheck = Callable[[BaseException], bool]


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_other_transient_error(_exc: BaseException) -> bool:
    return False


@dataclass(frozen=True)
class MailConfig:
    routing: MailRouting
    max_bytes: int = DEFAULT_MAX_BYTES
    rate_limit: int = DEFAULT_RATE_LIMIT  # per sender per hour


@dataclass(frozen=True)
class MailSource:
    """Where the raw message is kept, and the envelope recipients when the event gives them."""

    bucket: str
    key: str
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestResult:
    sha256: str
    outcome: MailOutcomeKind
    reason: str | None = None
    detail: str | None = None
    ticket_number: int | None = None
    linked_ticket: int | None = None
    comment_id: str | None = None
    replayed: bool = False  # this delivery had already been handled
    defects: str | None = None  # a broken MIME structure read anyway: its defects

    @property
    def salvaged(self) -> bool:
        """A message of broken structure that still became a ticket or a comment."""
        return self.defects is not None and self.outcome in (
            Kind.TICKET_CREATED,
            Kind.COMMENT_ADDED,
        )

    @classmethod
    def of(cls, record: MailRecord, replayed: bool = False) -> IngestResult:
        return cls(
            sha256=record.sha256,
            outcome=MailOutcomeKind(record.outcome),
            reason=record.reason,
            detail=record.detail,
            ticket_number=record.ticket_number,
            linked_ticket=record.linked_ticket,
            comment_id=record.comment_id,
            replayed=replayed,
            defects=record.defects,
        )


@dataclass(frozen=True)
class Recorded:
    """A mail record as the transaction that made it final left it, without reading it back:
    the record as it stood before (when first seen, its rank, its summary) with the outcome
    that transaction SET (its fields that are not None; the detail clipped as stored)."""

    sha256: str
    outcome: str
    reason: str | None
    detail: str | None
    ticket_number: int | None
    linked_ticket: int | None
    comment_id: str | None
    attachments_pending: bool
    rate_count: int | None
    received_at: str | None
    defects: str | None

    @property
    def final(self) -> bool:
        return True

    @classmethod
    def of(cls, before: MailRecord, outcome: MailOutcome) -> Recorded:
        def written(new: Any, old: Any) -> Any:
            return old if new is None else new

        detail = outcome.detail[:MAX_DETAIL] if outcome.detail else None
        return cls(
            sha256=before.sha256,
            outcome=outcome.outcome,
            reason=written(outcome.reason, before.reason),
            detail=written(detail, before.detail),
            ticket_number=written(outcome.ticket_number, before.ticket_number),
            linked_ticket=written(outcome.linked_ticket, before.linked_ticket),
            comment_id=written(outcome.comment_id, before.comment_id),
            attachments_pending=outcome.attachments_pending or before.attachments_pending,
            rate_count=before.rate_count,
            received_at=before.received_at,
            defects=before.defects,
        )


def mail_caller(sender: str, org_id: str) -> Caller:
    """The client a message comes from: known by its address, in its domain's organisation."""
    return Caller(id=f"mail:{sender}", role=Role.CLIENT, email=sender, org_id=org_id)


def _clip(text: str, limit: int, note: str) -> str:
    return text if len(text) <= limit else text[: limit - len(note)].rstrip() + note


def _attachment_line(attachments: tuple[Attachment, ...]) -> str:
    names = ", ".join(a.filename for a in attachments)
    return f"Pièces jointes : {names}" if names else ""


class MailIngestion:
    """Inbound mail into tickets and comments, through ports only.

    `unit_of_work` gives a fresh unit of work for each message (the ticket or comment and the
    outcome commit in it); `mail` keeps the mail records; `attachments` makes the files
    attachments of the ticket (None: they are only named on the ticket, not stored). `transient` tells which errors of the
    adapters a later attempt may get past (helpdesk.adapters.aws_clients.is_transient, given
    by the composition root); a concurrent change (Conflict, StaleVersion) always is.
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        mail: MailRepository,
        config: MailConfig,
        attachments: MailAttachments | None = None,
        clock: Callable[[], datetime] = utc_now,
        transient: TransientCheck = no_other_transient_error,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.mail = mail
        self.config = config
        self.attachments = attachments
        self.clock = clock
        self.transient = transient

    def is_transient(self, exc: BaseException) -> bool:
        """An error a later attempt may not meet: re-raised, so that Lambda retries."""
        return isinstance(exc, Conflict | StaleVersion) or self.transient(exc)

    # ---------- entry point ----------

    def ingest(self, raw: bytes, source: MailSource) -> IngestResult:
        """Handle one received message; every call ends with its outcome recorded."""
        sha = hashlib.sha256(raw).hexdigest()
        now = self.clock()
        record = self.mail.begin(sha, source.bucket, source.key, len(raw), now)
        if record.final:
            self._resume_attachments(record, raw)
            return IngestResult.of(record, replayed=True)
        try:
            record = self._handle(raw, sha, source, record, now)
        except Exception as exc:  # the one guard: an error is recorded, never lost
            log.exception("mail %s (%s) failed", sha, source.key)
            self.mail.fail(sha, f"{type(exc).__name__}: {exc}", now)
            if self.is_transient(exc):
                raise
            record = self.mail.get(sha)
            if record.final:  # the error came after the commit: the outcome stands
                return IngestResult.of(record)
            detail = f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]
            return IngestResult(sha, Kind.FAILED, detail=detail)
        self._resume_attachments(record, raw)
        return IngestResult.of(record)

    # ---------- deciding ----------

    def _handle(
        self, raw: bytes, sha: str, source: MailSource, record: MailRecord, now: datetime
    ) -> MailRecord:
        uow = self.unit_of_work()
        if len(raw) > self.config.max_bytes:
            detail = f"{len(raw)} bytes, over the {self.config.max_bytes} accepted"
            outcome = MailOutcome(Kind.QUARANTINED, "oversized", detail)
            return self._finish(uow, record, None, outcome, now)
        try:
            mail = parse_mail(raw)
        except MalformedMail as exc:
            outcome = MailOutcome(Kind.QUARANTINED, "malformed", str(exc))
            return self._finish(uow, record, None, outcome, now)
        summary: dict[str, Any] = {
            "sender": mail.sender,
            "subject": mail.subject,
            "message_id": mail.message_id,
            "to": list(source.recipients or mail.recipients),
            "no_reply": mail.no_reply,
            "defects": mail.defects,
        }
        record, screened = self._screen(mail, summary, record, now)
        if screened is not None and screened.outcome == Kind.IGNORED_AUTO_REPLY:
            bounced = self._bounce(uow, mail, summary, record, now)
            if bounced is not None:
                return bounced
        if screened is not None:
            record = self._described(record, summary)
            # A duplicate's Message-ID is another mail's: marking it handled again would
            # only cancel the transaction (and cost a second look-up and transaction).
            taken = screened.outcome == Kind.DUPLICATE
            return self._finish(uow, record, None if taken else mail.message_id, screened, now)
        try:
            return self._route(uow, mail, record, source, now)
        except DomainError as exc:
            if self.is_transient(exc):
                raise
            outcome = MailOutcome(Kind.QUARANTINED, "invalid_content", exc.detail)
            return self._finish(uow, record, mail.message_id, outcome, now)

    def _screen(
        self, mail: ParsedMail, summary: dict[str, Any], record: MailRecord, now: datetime
    ) -> tuple[MailRecord, MailOutcome | None]:
        """Duplicates, automatic mail and floods stop here, before anything is looked up.
        The record as it then stands: counted (and described) when the mail was."""
        if mail.message_id is not None:
            handled = self.mail.handled_message(mail.message_id)
            if handled is not None:
                return record, self._duplicate_of(handled)
        if mail.automatic is not None:
            return record, MailOutcome(Kind.IGNORED_AUTO_REPLY, "automatic", mail.automatic)
        record = self._counted(mail, summary, record, now)
        detail = self._over_limit(record, mail.sender)
        if detail is not None:
            return record, MailOutcome(Kind.RATE_LIMITED, "rate_limited", detail)
        return record, None

    def _counted(
        self, mail: ParsedMail, summary: dict[str, Any], record: MailRecord, now: datetime
    ) -> MailRecord:
        """The record with the message's rank among its sender's messages of the hour, and
        its summary, noted in the same write; a retry's record has both already."""
        if record.rate_count is not None:
            return record
        return self.mail.count_sender(record.sha256, mail.sender, now, summary)

    def _described(self, record: MailRecord, summary: dict[str, Any]) -> MailRecord:
        """The record with the message's summary (for the people who read quarantine): a
        counted record has it (`_counted`), any other gets it now."""
        if record.rate_count is not None:
            return record
        return self.mail.describe(record.sha256, summary) or record

    def _over_limit(self, record: MailRecord, sender: str) -> str | None:
        """Why the sender's message is over the hourly limit, or None."""
        rank = record.rate_count or 0
        if rank <= self.config.rate_limit:
            return None
        return f"message {rank} of {sender} this hour (limit {self.config.rate_limit})"

    @staticmethod
    def _duplicate_of(handled: Mapping[str, Any]) -> MailOutcome:
        number = handled.get("ticket_number")
        return MailOutcome(
            Kind.DUPLICATE,
            "same_message_id",
            f"Message-ID already handled: {handled.get('outcome')}",
            ticket_number=int(number) if number is not None else None,
            duplicate_of=str(handled.get("mail_sha256", "")) or None,
        )

    def _route(
        self,
        uow: UnitOfWork,
        mail: ParsedMail,
        record: MailRecord,
        source: MailSource,
        now: datetime,
    ) -> MailRecord:
        ticket = self._thread(uow, mail)
        if ticket is None:
            recipients = source.recipients or mail.recipients
            kind = self.config.routing.type_for(recipients)
            return self._new_ticket(uow, mail, record, kind, now)
        org_id = uow.directory.org_for_domain(mail.sender_domain)
        if org_id != ticket.org_id:
            detail = f"{mail.sender} is not of the organisation of ticket #{ticket.number}"
            outcome = MailOutcome(
                Kind.QUARANTINED, "stranger_reply", detail, ticket_number=ticket.number
            )
            return self._finish(uow, record, mail.message_id, outcome, now)
        if ticket.status is Status.CLOSED:
            return self._new_ticket(uow, mail, record, ticket.type, now, linked=ticket)
        return self._comment(uow, mail, record, ticket, org_id, now)

    def _thread(self, uow: UnitOfWork, mail: ParsedMail) -> Ticket | None:
        """The ticket this answers: our own Message-IDs first, then the `[#n]` tag."""
        number = self.mail.thread_ticket(mail.thread_ids)
        if number is None:
            number = mail.ticket_tag
        if number is None:
            return None
        try:
            return uow.tickets.get(number)
        except NotFound:
            return None

    # ---------- effects ----------
    # Each commits the outcome with its effect, and returns the record as that transaction
    # left it (Recorded: what was known of it and the outcome written, not read back).

    def _bounce(
        self,
        uow: UnitOfWork,
        mail: ParsedMail,
        summary: dict[str, Any],
        record: MailRecord,
        now: datetime,
    ) -> MailRecord | None:
        """A delivery report about a mail we sent: recorded on that mail's ticket (within the
        sender's hourly limit: each one writes the ticket and mails staff). None for any other
        automatic message (it stays ignored)."""
        bounce = mail.bounce
        if bounce is None:
            return None
        number = self.mail.thread_ticket(bounce.message_ids)
        if number is None:
            return None
        record = self._counted(mail, summary, record, now)
        limit = self._over_limit(record, mail.sender)
        if limit is not None:
            limited = MailOutcome(Kind.RATE_LIMITED, "rate_limited", limit, ticket_number=number)
            return self._finish(uow, record, mail.message_id, limited, now)
        detail = " ".join(x for x in (bounce.recipient, bounce.status, bounce.diagnostic) if x)
        outcome = MailOutcome(
            Kind.BOUNCE_RECORDED, "delivery_failed", detail[:MAX_DETAIL], ticket_number=number
        )
        service = HelpdeskService(uow, clock=lambda: now)
        try:
            service.record_bounce(
                number,
                recipient=bounce.recipient,
                status=bounce.status,
                diagnostic=bounce.diagnostic,
                extra=[self._handled(record, mail.message_id, outcome, now)],
            )
        except NotFound:
            return None
        except AlreadyRecorded as race:
            return self._lost_race(uow, record, mail, race, now)
        return Recorded.of(record, outcome)

    def _new_ticket(
        self,
        uow: UnitOfWork,
        mail: ParsedMail,
        record: MailRecord,
        kind: TicketType | None,
        now: datetime,
        linked: Ticket | None = None,
    ) -> MailRecord:
        org_id = uow.directory.org_for_domain(mail.sender_domain)
        if org_id is None:
            detail = f"no organisation owns the domain of {mail.sender}"
            outcome = MailOutcome(Kind.QUARANTINED, "unknown_sender", detail)
            return self._finish(uow, record, mail.message_id, outcome, now)
        if kind is None:
            detail = "addressed to none of our mailboxes"
            outcome = MailOutcome(Kind.QUARANTINED, "unknown_recipient", detail)
            return self._finish(uow, record, mail.message_id, outcome, now)
        sha = record.sha256
        linked_ticket = linked.number if linked else None
        pending = self._attachments_pending(mail)
        written: list[MailOutcome] = []

        def handled(ticket: Ticket) -> Sequence[Change]:
            outcome = MailOutcome(
                Kind.TICKET_CREATED,
                ticket_number=ticket.number,
                linked_ticket=linked_ticket,
                attachments_pending=pending,
            )
            written[:] = [outcome]
            return [self._handled(record, mail.message_id, outcome, now)]

        service = HelpdeskService(uow, clock=lambda: now)
        try:
            service.create_ticket(
                mail_caller(mail.sender, org_id),
                title=ticket_title(mail),
                description=ticket_description(mail, sha),
                type=kind,
                source=Source.EMAIL,
                extra=handled,
                linked_ticket=linked_ticket,
                attachments=tuple(a.filename for a in mail.attachments),
                mail_thread=f"<{mail.message_id}>" if mail.message_id else "",
                acknowledge=mail.no_reply is None,
            )
        except AlreadyRecorded as race:
            return self._lost_race(uow, record, mail, race, now)
        return Recorded.of(record, written[-1])

    def _comment(
        self,
        uow: UnitOfWork,
        mail: ParsedMail,
        record: MailRecord,
        ticket: Ticket,
        org_id: str,
        now: datetime,
    ) -> MailRecord:
        comment_id = new_id()
        outcome = MailOutcome(
            Kind.COMMENT_ADDED,
            ticket_number=ticket.number,
            comment_id=comment_id,
            attachments_pending=self._attachments_pending(mail),
        )
        service = HelpdeskService(uow, clock=lambda: now, ids=lambda: comment_id)
        try:
            service.add_comment(
                mail_caller(mail.sender, org_id),
                ticket.number,
                body=self._comment_body(mail, record.sha256),
                source=Source.EMAIL,
                message_id=mail.message_id,
                extra=[self._handled(record, mail.message_id, outcome, now)],
                loaded=ticket,  # read to thread the mail, just above: no second read
            )
        except AlreadyRecorded as race:
            return self._lost_race(uow, record, mail, race, now)
        return Recorded.of(record, outcome)

    @staticmethod
    def _handled(
        record: MailRecord, message_id: str | None, outcome: MailOutcome, now: datetime
    ) -> MailHandled:
        return MailHandled(record.sha256, message_id, outcome, now, record.received_at)

    def _finish(
        self,
        uow: UnitOfWork,
        record: MailRecord,
        message_id: str | None,
        outcome: MailOutcome,
        now: datetime,
    ) -> MailRecord:
        """Record an outcome that has no other effect (the unit of work holds only it)."""
        uow.add(self._handled(record, message_id, outcome, now))
        try:
            uow.commit()
        except AlreadyRecorded as race:
            uow.rollback()
            if not race.message_taken or message_id is None:
                return self.mail.get(record.sha256)
            handled = self.mail.handled_message(message_id) or {}
            return self._finish(uow, record, None, self._duplicate_of(handled), now)
        return Recorded.of(record, outcome)

    def _lost_race(
        self,
        uow: UnitOfWork,
        record: MailRecord,
        mail: ParsedMail,
        race: AlreadyRecorded,
        now: datetime,
    ) -> MailRecord:
        """Another delivery handled this message first: nothing of ours was applied."""
        uow.rollback()
        if race.message_taken and mail.message_id is not None:
            handled = self.mail.handled_message(mail.message_id) or {}
            return self._finish(uow, record, None, self._duplicate_of(handled), now)
        return self.mail.get(record.sha256)

    # ---------- text ----------

    def _description(self, mail: ParsedMail, sha: str) -> str:
        return ticket_description(mail, sha)

    def _comment_body(self, mail: ParsedMail, sha: str) -> str:
        return comment_body(mail, sha)

    # ---------- attachments ----------

    def _attachments_pending(self, mail: ParsedMail) -> bool:
        return bool(mail.attachments) and self.attachments is not None

    def _resume_attachments(self, record: MailRecord, raw: bytes) -> None:
        """Make the files of a handled message attachments of its ticket, if still to do."""
        from helpdesk.attachments import MailFile
        from helpdesk.domain.calendar import parse_instant

        store = self.attachments
        if not record.attachments_pending or record.ticket_number is None or store is None:
            return
        mail = parse_mail(raw)
        received = parse_instant(record.received_at) if record.received_at else self.clock()
        store.from_mail(
            record.ticket_number,
            record.sha256,
            mail.sender,
            received,
            [MailFile(a.filename, a.content_type, a.content) for a in mail.attachments],
            comment_id=record.comment_id,
        )
        self.mail.attachments_stored(record.sha256)


# ---------- the text a message gives (also what a quarantine release uses) ----------


def ticket_title(mail: ParsedMail) -> str:
    # A stray control character in a subject is removed, not a quarantine.
    return _clip(clean_title(mail.title) or NO_SUBJECT, MAX_TITLE, "…")


def ticket_description(mail: ParsedMail, sha: str) -> str:
    note = f"\n\n[… message tronqué ; le message complet est conservé : {sha}]"
    text = clean_text(mail.text or _attachment_line(mail.attachments))
    return _clip(text, MAX_DESCRIPTION, note)


def comment_body(mail: ParsedMail, sha: str) -> str:
    parts = [strip_quoted(mail.text), _attachment_line(mail.attachments)]
    body = clean_text("\n\n".join(p for p in parts if p)).strip() or "(message sans texte)"
    return _clip(body, MAX_BODY, f"\n\n[… message tronqué ; conservé : {sha}]")
