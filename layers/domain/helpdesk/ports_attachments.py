"""The ports of attachments (DESIGN.md §11): their records (the table) and their files (S3).

Implemented by helpdesk.adapters.dynamodb.attachments and helpdesk.adapters.attachments;
tests/unit/fakes_attachments.py holds the in-memory ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the check function imports this module: nothing more at cold start
    from helpdesk.domain.attachments import AttachmentRecord
    from helpdesk.domain.model import Ticket
    from helpdesk.domain.notifications import Notification
    from helpdesk.ports import Page


@dataclass(frozen=True)
class UploadForm:
    """An S3 presigned POST: the form's action and the fields to send before `file`."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class StoredFile:
    """One version of an uploaded file: its bytes are read in chunks, never whole."""

    version_id: str | None
    chunks: Iterator[bytes]


class FileMissing(Exception):
    """No such object (or no such version): deleted already, or never uploaded."""


class AttachmentRecords(Protocol):
    def add(self, record: AttachmentRecord) -> bool:
        """Write a pending record if absent (one conditional write); False if it existed."""
        ...

    def get(self, ticket_number: int, attachment_id: str) -> AttachmentRecord | None: ...

    def page(
        self, ticket_number: int, public_only: bool, cursor: str | None, limit: int
    ) -> Page[AttachmentRecord]:
        """The ticket's attachments, oldest first (a client's: the public ones only)."""
        ...

    def ticket(self, ticket_number: int) -> Ticket | None:
        """The ticket (what the notifications of a new attachment say), if it exists."""
        ...

    def decide(
        self,
        record: AttachmentRecord,
        notifications: Sequence[Notification] = (),
        ticket_version: int = 0,
    ) -> bool:
        """Store the checked record on condition that it is still pending; an available one
        also counts on its ticket (all, and public when not internal) and queues its
        notifications (the outbox, keyed by the ticket's version and the attachment), in the
        same transaction. False when it was decided already (a repeated event): nothing
        changes."""
        ...


class AttachmentFiles(Protocol):
    def upload_form(self, key: str, content_type: str, size: int, expires_in: int) -> UploadForm:
        """A presigned POST for exactly this key, this type and exactly `size` bytes."""
        ...

    def open(self, key: str, version_id: str | None = None) -> StoredFile:
        """The object (that version, or the latest) in chunks; FileMissing if absent."""
        ...

    def scan_status(self, key: str, version_id: str | None = None) -> str | None:
        """The malware scan's tag (GuardDutyMalwareScanStatus) on the object, if any."""
        ...

    def link(self, key: str, version_id: str | None, disposition: str, content_type: str) -> str:
        """A presigned GET of that version, answered with these Content-Disposition and
        Content-Type headers."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> str | None:
        """Store bytes (mail attachments) under the key; the new version id."""
        ...

    def discard(self, key: str, version_id: str | None) -> None:
        """Remove a rejected file from use (the bucket keeps it as a noncurrent version until
        the lifecycle rule expires it)."""
        ...
