"""Attachment records (DESIGN.md §11) in the ticket's partition: `ATTACHMENT#<id>`.

A record is written once, pending (`attribute_not_exists`), and decided once: the update that
makes it available or rejected is conditional on `status = pending`, and an available one adds
1 to its ticket's counters (`attachments_available`, and `attachments_public` when not
internal) and queues its notifications (outbox items) in the same transaction; so an S3 event
delivered three times changes it once and mails once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Item, Operation, Table, condition_failed
from helpdesk.domain.attachments import AttachmentRecord, AttachmentStatus, Rejection
from helpdesk.domain.calendar import iso, parse_instant
from helpdesk.domain.model import Source

if TYPE_CHECKING:  # imported where used: the check function's cold start stays small
    from helpdesk.domain.model import Ticket
    from helpdesk.domain.notifications import Notification
    from helpdesk.ports import Page

_DECIDED_FIELDS = ("status", "content_type", "sha256", "reason", "detail", "checked_at")


def attachment_to_item(record: AttachmentRecord) -> Item:
    item: Item = {
        **keys.attachment_key(record.ticket_number, record.id),
        "entity": "attachment",
        "id": record.id,
        "ticket_number": record.ticket_number,
        "filename": record.filename,
        "content_type": record.content_type,
        "size": record.size,
        "internal": record.internal,
        "source": record.source.value,
        "uploaded_by": record.uploaded_by,
        "at": iso(record.at),
        "status": record.status.value,
        "by_staff": record.by_staff,
    }
    optional = {
        "sha256": record.sha256,
        "reason": record.reason.value if record.reason else None,
        "detail": record.detail,
        "comment_id": record.comment_id,
        "checked_at": iso(record.checked_at) if record.checked_at else None,
        "version_id": record.version_id,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def attachment_from_item(item: Item) -> AttachmentRecord:
    return AttachmentRecord(
        id=item["id"],
        ticket_number=int(item["ticket_number"]),
        filename=item["filename"],
        content_type=item["content_type"],
        size=int(item["size"]),
        internal=bool(item.get("internal", False)),
        source=Source(item.get("source", "api")),
        uploaded_by=item["uploaded_by"],
        at=parse_instant(item["at"]),
        status=AttachmentStatus(item["status"]),
        sha256=item.get("sha256"),
        reason=Rejection(item["reason"]) if item.get("reason") else None,
        detail=item.get("detail"),
        comment_id=item.get("comment_id"),
        checked_at=parse_instant(item["checked_at"]) if item.get("checked_at") else None,
        version_id=item.get("version_id"),
        by_staff=bool(item.get("by_staff", False)),
    )


class DynamoAttachmentRecords:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, record: AttachmentRecord) -> bool:
        try:
            self.table.write(self.table.put_new(attachment_to_item(record)))
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def get(self, ticket_number: int, attachment_id: str) -> AttachmentRecord | None:
        item = self.table.get(keys.attachment_key(ticket_number, attachment_id))
        return attachment_from_item(item) if item else None

    def page(
        self, ticket_number: int, public_only: bool, cursor: str | None, limit: int
    ) -> Page[AttachmentRecord]:
        from helpdesk.ports import Page

        page = self.table.page(
            index=None,
            partition=keys.ticket_pk(ticket_number),
            sk_prefix=keys.ATTACHMENT_PREFIX,
            filter_expression="internal = :no" if public_only else None,
            values={":no": False} if public_only else None,
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )
        return Page([attachment_from_item(i) for i in page.items], page.next_cursor)

    def ticket(self, ticket_number: int) -> Ticket | None:
        from helpdesk.adapters.dynamodb.items import ticket_from_item

        item = self.table.get(keys.ticket_key(ticket_number))
        return ticket_from_item(item) if item else None

    def decide(
        self,
        record: AttachmentRecord,
        notifications: Sequence[Notification] = (),
        ticket_version: int = 0,
    ) -> bool:
        item = attachment_to_item(record)
        names = {f"#{name}": name for name in (*_DECIDED_FIELDS, "version_id")}
        values: dict[str, Any] = {":pending": AttachmentStatus.PENDING.value}
        sets, removes = [], []
        for name in (*_DECIDED_FIELDS, "version_id"):
            if name in item:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = item[name]
            else:
                removes.append(f"#{name}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        operations: list[Operation] = [
            self.table.update(
                keys.attachment_key(record.ticket_number, record.id),
                expression,
                condition="#status = :pending",
                names=names,
                values=values,
            )
        ]
        if record.available:
            counters = "ADD attachments_available :one"
            if not record.internal:
                counters += ", attachments_public :one"
            operations.append(
                self.table.update(
                    keys.ticket_key(record.ticket_number),
                    counters,
                    condition="attribute_exists(pk)",
                    values={":one": 1},
                )
            )
        at = record.checked_at or record.at
        if notifications:
            from helpdesk.adapters.dynamodb.items import outbox_to_item
        for notification in notifications:
            outbox = outbox_to_item(notification, ticket_version, at)
            operations.append(self.table.put_new(outbox))
        try:
            if len(operations) == 1:
                self.table.write(operations[0])
            else:
                self.table.transact(operations)
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
