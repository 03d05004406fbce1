"""Attachments of tickets (DESIGN.md §11): announce an upload, check it, list and download.

- `announce`: the caller (who may read the ticket; `internal` for staff only) announces a file;
  one conditional write stores it `pending` at a key of ours, and the answer is a presigned POST
  bound to that key, the exact size and the declared type.
- `check`: run on each S3 ObjectCreated event of the bucket (and on GuardDuty's scan result
  when malware scanning is on). It reads the record first: a decided one (a repeated event)
  ends there. Otherwise it reads the object version the event names, in chunks (SHA-256, size,
  the first bytes sniffed: helpdesk.domain.attachments.verdict) and decides it with one
  conditional write (available: with the ticket's counters, in one transaction). A rejected
  file is deleted from use. With scanning on, a file clean so far stays pending until the scan
  says NO_THREATS_FOUND.
- `from_mail`: the files of a mail that made a ticket or a comment become its attachments
  (source `email`, the comment's id), each stored at its key and checked the same way, at once.
- `page`, `get`: what the caller may see (clients never see internal ones: 404 on them), with a
  5-minute download link when available.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from helpdesk.domain.attachments import (
    UPLOAD_EXPIRY_SECONDS,
    AttachmentRecord,
    AttachmentStatus,
    Inspection,
    ScanStatus,
    content_disposition,
    decided,
    new_attachment,
    parse_object_key,
    sanitise_filename,
    type_of_mail_part,
    verdict,
    visible_to,
)
from helpdesk.domain.errors import InvalidInput, NotFound
from helpdesk.domain.listing import DEFAULT_LIMIT, MAX_LIMIT
from helpdesk.domain.model import Caller, Source, Ticket
from helpdesk.ports_attachments import AttachmentFiles, AttachmentRecords, FileMissing, UploadForm

if TYPE_CHECKING:
    # Imported where used: the check function (functions/attachments) needs them only once a
    # file becomes available (notifications) and never lists (Page); its cold start stays small.
    from helpdesk.domain.notifications import Notification
    from helpdesk.ports import Page

log = logging.getLogger(__name__)

TicketReader = Callable[[Caller, int], Ticket]  # HelpdeskService.get_ticket: 404 across orgs


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    from helpdesk.service import new_id as service_id

    return service_id()


@dataclass(frozen=True)
class Announced:
    record: AttachmentRecord
    upload: UploadForm
    expires_at: datetime


@dataclass(frozen=True)
class Shown:
    """An attachment as a caller sees it: with its link when available."""

    record: AttachmentRecord
    url: str | None


@dataclass(frozen=True)
class Checked:
    """What one event did: `changed` is False for a repeated event (or an unknown key)."""

    key: str
    status: AttachmentStatus | None
    changed: bool
    reason: str | None = None


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str
    content: bytes


class AttachmentService:
    def __init__(
        self,
        records: AttachmentRecords,
        files: AttachmentFiles,
        tickets: TicketReader | None = None,
        *,
        scanning: bool = False,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.records = records
        self.files = files
        self.tickets = tickets
        self.scanning = scanning
        self.clock = clock
        self.ids = ids

    def _ticket(self, caller: Caller, number: int) -> Ticket:
        if self.tickets is None:  # pragma: no cover - the check function reads no ticket
            raise RuntimeError("no ticket reader configured")
        return self.tickets(caller, number)

    # ---------- the API ----------

    def announce(
        self,
        caller: Caller,
        number: int,
        *,
        filename: str,
        content_type: str,
        size: int,
        internal: bool = False,
    ) -> Announced:
        ticket = self._ticket(caller, number)
        now = self.clock()
        record = new_attachment(
            ticket,
            caller,
            attachment_id=self.ids(),
            filename=filename,
            content_type=content_type,
            size=size,
            internal=internal,
            now=now,
        )
        if not self.records.add(record):  # pragma: no cover - ids are unique
            raise InvalidInput("id", "This attachment was already announced.")
        form = self.files.upload_form(
            record.key, record.content_type, record.size, UPLOAD_EXPIRY_SECONDS
        )
        return Announced(record, form, now + timedelta(seconds=UPLOAD_EXPIRY_SECONDS))

    def page(
        self, caller: Caller, number: int, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> Page[Shown]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"'limit' must be between 1 and {MAX_LIMIT}.")
        from helpdesk.ports import Page

        self._ticket(caller, number)
        page = self.records.page(number, not caller.is_staff, cursor, limit)
        shown = [self._shown(r) for r in page.items if visible_to(r, caller)]
        return Page(shown, page.next_cursor)

    def get(self, caller: Caller, number: int, attachment_id: str) -> Shown:
        self._ticket(caller, number)
        record = self.records.get(number, attachment_id)
        if record is None or not visible_to(record, caller):
            raise NotFound(f"Attachment {attachment_id} of ticket #{number} does not exist.")
        return self._shown(record)

    def _shown(self, record: AttachmentRecord) -> Shown:
        if not record.available:
            return Shown(record, None)
        url = self.files.link(
            record.key,
            record.version_id,
            content_disposition(record.filename),
            record.content_type,
        )
        return Shown(record, url)

    # ---------- the check ----------

    def check(self, key: str, version_id: str | None = None, scan: str | None = None) -> Checked:
        """Check the object at `key` (the version the event names); `scan`: the malware
        scan's result when the event is GuardDuty's."""
        parsed = parse_object_key(key)
        if parsed is None:
            log.warning("not an attachment key: %s", key)
            return Checked(key, None, False)
        record = self.records.get(*parsed)
        if record is None:
            log.warning("no attachment record for %s", key)
            return Checked(key, None, False)
        if record.status is not AttachmentStatus.PENDING:
            return Checked(key, record.status, False, record.reason)
        try:
            stored = self.files.open(key, version_id)
        except FileMissing:
            log.warning("attachment %s is gone (version %s)", key, version_id)
            return Checked(key, record.status, False)
        inspection = Inspection.of(stored.chunks)
        return self._decide(record, inspection, stored.version_id, scan)

    def _decide(
        self,
        record: AttachmentRecord,
        inspection: Inspection,
        version_id: str | None,
        scan: str | None,
    ) -> Checked:
        scan_status = _scan_status(scan)
        if self.scanning and scan_status is None:
            scan_status = _scan_status(self.files.scan_status(record.key, version_id))
        outcome = verdict(record, inspection, scanning=self.scanning, scan=scan_status)
        if outcome.status is AttachmentStatus.PENDING:
            return Checked(record.key, outcome.status, False)  # the scan's result is to come
        after = decided(record, outcome, self.clock(), version_id)
        notifications: list[Notification] = []
        version = 0
        if after.available:
            from helpdesk.domain.notifications import for_attachment

            ticket = self.records.ticket(record.ticket_number)
            if ticket is not None:
                notifications, version = for_attachment(ticket, after), ticket.version
        changed = self.records.decide(after, notifications, version)
        if changed and outcome.status is AttachmentStatus.REJECTED:
            self.files.discard(record.key, version_id)
        reason = outcome.reason.value if outcome.reason else None
        return Checked(record.key, outcome.status, changed, reason)

    # ---------- mail ----------

    def from_mail(
        self,
        ticket_number: int,
        mail_sha256: str,
        sender: str,
        received_at: datetime,
        files: Sequence[MailFile],
        comment_id: str | None = None,
    ) -> list[Checked]:
        """Each file of a mail becomes an attachment of the ticket (or of the comment the mail
        made), stored and checked now. Ids derive from the mail and the file's rank, so a
        repeated ingestion adds nothing: a record that exists is not written or checked again."""
        results = []
        stamp = f"{int(received_at.timestamp() * 1000):013d}"
        for rank, part in enumerate(files, 1):
            # Sorted as in the mail: the time it came, its rank, then a part of the mail's hash.
            digest = hashlib.sha256(f"{mail_sha256}:{rank}".encode()).hexdigest()[:8]
            try:
                filename = sanitise_filename(part.filename, truncate=True)
            except InvalidInput:
                filename = f"piece-jointe-{rank}"
            record = AttachmentRecord(
                id=f"{stamp}-{rank:03d}{digest}",
                ticket_number=ticket_number,
                filename=filename,
                content_type=type_of_mail_part(part.content_type, filename),
                size=len(part.content),
                internal=False,
                source=Source.EMAIL,
                uploaded_by=sender,
                at=received_at,
                comment_id=comment_id,
            )
            existing = self.records.get(ticket_number, record.id)
            if existing is None:
                self.records.add(record)
                existing = record
            if existing.status is not AttachmentStatus.PENDING:
                results.append(Checked(record.key, existing.status, False))
                continue
            version = self.files.put(record.key, part.content, record.content_type)
            inspection = Inspection.of(_chunks(part.content))
            results.append(self._decide(existing, inspection, version, None))
        return results


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    stream = io.BytesIO(data)
    while chunk := stream.read(size):
        yield chunk


def _scan_status(value: str | None) -> ScanStatus | None:
    if not value:
        return None
    try:
        return ScanStatus(value)
    except ValueError:
        return ScanStatus.FAILED

