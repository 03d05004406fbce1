"""The ports of the monthly billing export (helpdesk.billing_export): the month locks and the
month's billable items (`BillingRepository`), and the exports bucket (`ExportFiles`).

The exporter reads tickets and organisations through the repositories of helpdesk.ports. The
DynamoDB adapter is helpdesk.adapters.dynamodb.billing, the S3 one
helpdesk.adapters.exports_store; the values crossing these ports are plain (no DynamoDB JSON,
no key layout, no expression).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from helpdesk.domain.model import Ticket


class LockStatus(StrEnum):
    EXPORTING = "exporting"  # the lock is taken; the files are being written
    EXPORTED = "exported"  # the files and the manifest are written and recorded


class LockAction(StrEnum):
    """What a month's lock history records."""

    LOCK = "lock"
    EXPORTED = "exported"
    UNLOCK = "unlock"


@dataclass(frozen=True)
class ExportRecord:
    """What an exported month's lock records of its export."""

    manifest_key: str
    manifest_sha256: str
    manifest_version: str | None
    versions: Mapping[str, str | None]  # file name -> object version
    entries_read: int
    entries_sha256: str
    line_count: int
    total_minutes: int
    total_amount: Decimal


@dataclass(frozen=True)
class MonthLock:
    """A month's lock: taken (`exporting`) before the month is read, `exported` once the
    files are written. While it exists no time entry lands in the month."""

    month: str
    status: LockStatus
    export_id: str
    generated_at: datetime
    actor: str
    record: ExportRecord | None = None  # set when exported

    @property
    def exported(self) -> bool:
        return self.status is LockStatus.EXPORTED and self.record is not None


@dataclass(frozen=True)
class LockEvent:
    """One event of a month's lock history: who locked, exported or unlocked it, and why."""

    month: str
    action: LockAction
    actor: str
    at: datetime
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MonthTime:
    """A time entry of the month, as billing reads it. `key` identifies the item in the
    month's read order (the entries digest covers it)."""

    key: str
    org_id: str
    ticket_number: int
    ticket_type: str
    consultant: str
    minutes: int
    billable: bool


@dataclass(frozen=True)
class MonthQuote:
    """An evolution closed in the month: its approved quote is read on the ticket itself."""

    key: str
    org_id: str
    ticket_number: int


MonthItem = MonthTime | MonthQuote


class BillingRepository(Protocol):
    def lock(self, month: str) -> MonthLock | None:
        """The month's lock, read consistently (None: the month is not locked)."""
        ...

    def take_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        """Put the lock (`exporting`) with its history event, together; False (nothing
        written) when the month has a lock already."""
        ...

    def finish_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        """The lock becomes `lock` (`exported`, with its record) with its history event,
        together, on condition that it is still `exporting` with the same export id; False
        (nothing written) otherwise."""
        ...

    def unlock(self, lock: MonthLock, event: LockEvent) -> bool:
        """Drop the lock, on condition that it is still exported by the same export, with
        its history event; False (nothing written) when it changed meanwhile."""
        ...

    def month_items(self, month: str) -> Iterator[MonthItem]:
        """Every billable item of the month (time entries, closed evolutions), streamed
        page after page in a stable order; never the whole table."""
        ...

    def task_minutes(self, ticket_numbers: Sequence[int], month: str) -> dict[int, int]:
        """The minutes each ticket's month task counts, read consistently (0 without a
        task), for every number asked."""
        ...

    def history(self, month: str) -> list[LockEvent]:
        """The month's lock history, oldest first."""
        ...

    def touched_tickets(self, since: datetime) -> Iterator[Ticket]:
        """Every ticket updated at or after `since` (so every ticket opened, closed or
        answered since then), read page by page from an index ordered by update time;
        reads grow with those tickets, never with the table."""
        ...


class StoredFile(Protocol):
    @property
    def version_id(self) -> str | None: ...

    @property
    def sha256(self) -> str | None: ...

    @property
    def export_id(self) -> str | None: ...


class ExportFiles(Protocol):
    """The exports bucket (versioned): what the exporter writes, reads and links to."""

    def put(
        self, key: str, body: bytes, *, content_type: str, sha256: str, export_id: str
    ) -> StoredFile: ...

    def head(self, key: str) -> StoredFile | None:
        """The current version of the object (None when there is none)."""
        ...

    def get(self, key: str, version_id: str | None = None) -> bytes: ...

    def link(self, key: str, version_id: str | None = None) -> str:
        """A short-lived download link to that exact version."""
        ...
