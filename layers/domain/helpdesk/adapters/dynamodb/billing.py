"""The month locks and the `by_month` index (the BillingRepository of helpdesk.ports_billing).

Items (docs/data-model.md):
- the lock of a month: `LOCK` / `MONTH#<yyyy-mm>` (`status` exporting|exported, `export_id`,
  `generated_at`, `actor`; once exported the manifest's key, version and SHA-256, the files'
  versions, the count and digest of the entries read, the totals);
- its history: `LOCK` / `HISTORY#<yyyy-mm>#<at>#<action>#<8 hex>`;
- the month's billable items on the sparse `by_month` index: `month_pk` = `MONTH#<yyyy-mm>`,
  `month_sk` = `<org>#<padded number>#<entry id>` for a time entry, `...#QUOTE` for an
  evolution closed in the month.

Each write goes with its history event in one transaction; a cancelled transaction is read by
the tag of each operation, never by its position.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import (
    CONDITION_FAILED,
    Item,
    Operation,
    Table,
    cancellation_codes,
    marshal,
)
from helpdesk.domain.calendar import iso, parse_instant
from helpdesk.domain.model import Ticket
from helpdesk.ports_billing import (
    ExportRecord,
    LockAction,
    LockEvent,
    LockStatus,
    MonthItem,
    MonthLock,
    MonthQuote,
    MonthTime,
)

BY_MONTH = "by_month"
QUOTE_ENTRY = "QUOTE"
BATCH = 100  # BatchGetItem's most keys per request
NULL_VERSION = "null"  # an object written to an unversioned bucket (S3's own word)
# What billing reads of an index item (a closed evolution is then read whole, by its key).
PROJECTED = ("month_sk", "ticket_type", "consultant", "minutes", "billable")
_EVENT_FIELDS = frozenset({"pk", "sk", "entity", "month", "action", "actor", "at"})


@dataclass(frozen=True)
class Tagged:
    """An operation of a transaction, and whether its failed condition means "the month's
    lock is not as expected" (the caller's answer is then False, not an error)."""

    operation: Operation
    is_lock: bool = False


class DynamoBillingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ---------- the lock ----------

    def lock(self, month: str) -> MonthLock | None:
        item = self.table.get(keys.month_lock_key(month))
        return lock_from_item(item) if item is not None else None

    def take_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        item = {
            **keys.month_lock_key(lock.month),
            "entity": "month_lock",
            "month": lock.month,
            "status": lock.status.value,
            "export_id": lock.export_id,
            "generated_at": iso(lock.generated_at),
            "actor": lock.actor,
        }
        return self._transact([Tagged(self.table.put_new(item), is_lock=True), self._event(event)])

    def finish_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        record = lock.record
        if record is None:
            raise ValueError("an exported lock records its export")
        done = self.table.update(
            keys.month_lock_key(lock.month),
            "SET #status = :exported, manifest_key = :key, manifest_sha256 = :sha, "
            "manifest_version = :version, versions = :versions, entries_read = :read, "
            "entries_sha256 = :digest, line_count = :lines, total_minutes = :minutes, "
            "total_amount = :amount",
            condition="#status = :exporting AND export_id = :id",
            names={"#status": "status"},
            values={
                ":exported": LockStatus.EXPORTED.value,
                ":exporting": LockStatus.EXPORTING.value,
                ":id": lock.export_id,
                ":key": record.manifest_key,
                ":sha": record.manifest_sha256,
                ":version": record.manifest_version or NULL_VERSION,
                ":versions": {k: v or NULL_VERSION for k, v in record.versions.items()},
                ":read": record.entries_read,
                ":digest": record.entries_sha256,
                ":lines": record.line_count,
                ":minutes": record.total_minutes,
                ":amount": Decimal(record.total_amount),
            },
        )
        return self._transact([Tagged(done, is_lock=True), self._event(event)])

    def unlock(self, lock: MonthLock, event: LockEvent) -> bool:
        drop = self.table.delete(
            keys.month_lock_key(lock.month),
            condition="#status = :exported AND export_id = :id",
            names={"#status": "status"},
            values={":exported": LockStatus.EXPORTED.value, ":id": lock.export_id},
        )
        return self._transact([Tagged(drop, is_lock=True), self._event(event)])

    def history(self, month: str) -> list[LockEvent]:
        items = self.table.partition(keys.LOCK_PK, keys.month_lock_history_prefix(month))
        return [event_from_item(i) for i in items]

    def _event(self, event: LockEvent) -> Tagged:
        at = iso(event.at)
        item = {
            "pk": keys.LOCK_PK,
            "sk": f"{keys.month_lock_history_prefix(event.month)}{at}#{event.action.value}"
            f"#{uuid.uuid4().hex[:8]}",
            "entity": "month_lock_event",
            "month": event.month,
            "action": event.action.value,
            "actor": event.actor,
            "at": at,
            **event.details,
        }
        return Tagged(self.table.put_new(item))

    def _transact(self, tagged: Sequence[Tagged]) -> bool:
        """True when written; False when the lock's condition failed; raises otherwise."""
        try:
            self.table.transact([t.operation for t in tagged])
        except ClientError as exc:
            reasons = zip(tagged, cancellation_codes(exc), strict=False)
            if any(t.is_lock and code == CONDITION_FAILED for t, code in reasons):
                return False
            raise
        return True

    # ---------- the month's items ----------

    def month_items(self, month: str) -> Iterator[MonthItem]:
        """The month's `by_month` items, page by page (Query, 1 MB pages; never a Scan),
        with only the attributes billing reads, read from the wire format directly (the
        large months' cost is here)."""
        replies = self.table.query_raw(
            IndexName=BY_MONTH,
            KeyConditionExpression="month_pk = :m",
            ExpressionAttributeValues={":m": {"S": keys.month_pk(month)}},
            ProjectionExpression=", ".join(f"#{i}" for i in range(len(PROJECTED))),
            ExpressionAttributeNames={f"#{i}": name for i, name in enumerate(PROJECTED)},
        )
        for reply in replies:
            for raw in reply.get("Items", []):
                yield month_item(raw)

    def touched_tickets(self, since: datetime) -> Iterator[Ticket]:
        return _touched(self.table, since)

    def task_minutes(self, ticket_numbers: Sequence[int], month: str) -> dict[int, int]:
        minutes: dict[int, int] = {}
        for start in range(0, len(ticket_numbers), BATCH):
            numbers = ticket_numbers[start : start + BATCH]
            task_keys = {n: {"pk": keys.ticket_pk(n), "sk": keys.task_sk(month)} for n in numbers}
            found = self.table.batch_get(list(task_keys.values()))
            for number, key in task_keys.items():
                task = found.get((key["pk"], key["sk"]))
                minutes[number] = int(task.get("minutes", 0)) if task else 0
        return minutes


def _touched(table: Table, since: datetime) -> Iterator[Ticket]:
    """The `all_updated` index from `since` on (Query, 1 MB pages)."""
    for item in table.query(
        IndexName="all_updated",
        KeyConditionExpression="upd_pk = :p AND upd_sk >= :since",
        ExpressionAttributeValues=marshal({":p": keys.ALL_TICKETS_PK, ":since": iso(since)}),
    ):
        yield it.ticket_from_item(item)


def month_item(raw: dict[str, Any]) -> MonthItem:
    """One `by_month` item (DynamoDB JSON, as the index returns it)."""
    key = raw["month_sk"]["S"]
    org_id, number, entry = key.rsplit("#", 2)
    if entry == QUOTE_ENTRY:
        return MonthQuote(key=key, org_id=org_id, ticket_number=int(number))
    return MonthTime(
        key=key,
        org_id=org_id,
        ticket_number=int(number),
        ticket_type=raw.get("ticket_type", {}).get("S", ""),
        consultant=raw["consultant"]["S"],
        minutes=int(raw["minutes"]["N"]),
        billable=bool(raw.get("billable", {}).get("BOOL", False)),
    )


def _version(value: Any) -> str | None:
    return None if value in (None, NULL_VERSION) else str(value)


def lock_from_item(item: Item) -> MonthLock:
    status = LockStatus(item["status"])
    record = None
    if status is LockStatus.EXPORTED:
        record = ExportRecord(
            manifest_key=str(item["manifest_key"]),
            manifest_sha256=str(item["manifest_sha256"]),
            manifest_version=_version(item.get("manifest_version")),
            versions={str(k): _version(v) for k, v in (item.get("versions") or {}).items()},
            entries_read=int(item["entries_read"]),
            entries_sha256=str(item["entries_sha256"]),
            line_count=int(item.get("line_count", 0)),
            total_minutes=int(item.get("total_minutes", 0)),
            total_amount=Decimal(item.get("total_amount", 0)),
        )
    return MonthLock(
        month=str(item["month"]),
        status=status,
        export_id=str(item["export_id"]),
        generated_at=parse_instant(str(item["generated_at"])),
        actor=str(item.get("actor", "")),
        record=record,
    )


def event_from_item(item: Item) -> LockEvent:
    return LockEvent(
        month=str(item["month"]),
        action=LockAction(item["action"]),
        actor=str(item["actor"]),
        at=parse_instant(str(item["at"])),
        details={k: str(v) for k, v in item.items() if k not in _EVENT_FIELDS},
    )
