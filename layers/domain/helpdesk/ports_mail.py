"""The ports of inbound mail: the mail records and where attachments are kept.

The ingestion (helpdesk.mail_ingest) writes tickets and comments through the unit of work
(helpdesk.ports), and its outcome with them (`MailHandled`); what it reads and writes about
the received messages themselves goes through `MailRepository` (implemented over the table
by helpdesk.adapters.dynamodb.mail), attachments through `MailAttachments`
(helpdesk.attachments).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from helpdesk.attachments import MailFile


class MailRecord(Protocol):
    """One received message (by the SHA-256 of its bytes) and its outcome, as far as the
    ingestion reads it (the adapter's record also says where the raw message is kept)."""

    @property
    def sha256(self) -> str: ...

    @property
    def outcome(self) -> str:
        """A MailOutcomeKind value: `pending`, `failed` (not final), or a final one."""
        ...

    @property
    def reason(self) -> str | None: ...

    @property
    def detail(self) -> str | None: ...

    @property
    def ticket_number(self) -> int | None: ...

    @property
    def linked_ticket(self) -> int | None: ...

    @property
    def comment_id(self) -> str | None: ...

    @property
    def attachments_pending(self) -> bool: ...

    @property
    def rate_count(self) -> int | None: ...

    @property
    def received_at(self) -> str | None:
        """When the message was first seen (ISO 8601), if recorded."""
        ...

    @property
    def defects(self) -> str | None:
        """A broken MIME structure read anyway: its defects and what was salvaged."""
        ...

    @property
    def final(self) -> bool: ...


class MailRepository(Protocol):
    def begin(self, sha256: str, bucket: str, key: str, size: int, now: datetime) -> MailRecord:
        """Record the message as seen (`pending`), once; the record as it stands."""
        ...

    def get(self, sha256: str) -> MailRecord: ...

    def describe(self, sha256: str, summary: dict[str, Any]) -> MailRecord | None:
        """Note who sent it and about what, for the people who read quarantine: the record
        as it then stands (one write, no read), None when there was nothing to note."""
        ...

    def fail(self, sha256: str, error: str, now: datetime) -> None:
        """Mark a mail not handled yet `failed` with the error (best effort, never raises)."""
        ...

    def attachments_stored(self, sha256: str) -> None: ...

    def handled_message(self, message_id: str) -> Mapping[str, Any] | None:
        """What became of a Message-ID already handled (`outcome`, `ticket_number`,
        `mail_sha256`), or None."""
        ...

    def thread_ticket(self, message_ids: Sequence[str]) -> int | None:
        """The ticket of the first of these ids that is one of our own sent messages."""
        ...

    def count_sender(
        self, sha256: str, sender: str, now: datetime, summary: dict[str, Any] | None = None
    ) -> MailRecord:
        """Count this message among the sender's messages of the hour, once, and note
        `summary` as `describe` does: the record as it then stands, `rate_count` its rank
        (a retry of the same message keeps the rank it was given)."""
        ...


class MailAttachments(Protocol):
    """The files of a mail become attachments of its ticket (helpdesk.attachments)."""

    def from_mail(
        self,
        ticket_number: int,
        mail_sha256: str,
        sender: str,
        received_at: datetime,
        files: Sequence[MailFile],
        comment_id: str | None = None,
    ) -> Sequence[object]:
        """Record, store and check each file once (a repeated call adds nothing)."""
        ...


# ---------------------------------------------------------------- quarantine (DESIGN.md §7)


class QuarantinedMail(Protocol):
    """A mail record as the quarantine shows it: who sent it, to whom, about what, why it was
    held, and where its raw message is kept."""

    @property
    def sha256(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def detail(self) -> str | None: ...

    @property
    def received_at(self) -> str | None: ...

    @property
    def size(self) -> int | None: ...

    @property
    def sender(self) -> str | None: ...

    @property
    def to(self) -> tuple[str, ...]: ...

    @property
    def subject(self) -> str | None: ...

    @property
    def defects(self) -> str | None:
        """A broken MIME structure read anyway: its defects and what was salvaged."""
        ...

    @property
    def message_id(self) -> str | None: ...

    @property
    def s3_bucket(self) -> str: ...

    @property
    def s3_key(self) -> str: ...

    @property
    def ticket_number(self) -> int | None: ...

    @property
    def comment_id(self) -> str | None: ...

    @property
    def released_by(self) -> str | None: ...

    @property
    def released_at(self) -> str | None: ...

    @property
    def released_as(self) -> str | None: ...


class QuarantinedPage(Protocol):
    @property
    def items(self) -> Sequence[QuarantinedMail]: ...

    @property
    def next_cursor(self) -> str | None: ...


class QuarantineRepository(Protocol):
    def find(self, sha256: str) -> QuarantinedMail | None:
        """The mail record of these bytes, or None."""
        ...

    def quarantined(self, cursor: str | None, limit: int) -> QuarantinedPage:
        """One page of the quarantined records, newest received first; reads grow with the
        page, never with the mail received."""
        ...


class RawMailStore(Protocol):
    """Where raw received messages are kept (the inbound bucket)."""

    def read(self, bucket: str, key: str) -> bytes: ...

    def link(self, bucket: str, key: str) -> str:
        """A presigned GET of the raw message, valid 5 minutes (no call is made)."""
        ...
