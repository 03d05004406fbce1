"""DynamoDB items of inbound mail (same table; see docs/data-model.md).

| item | pk | sk | what |
|---|---|---|---|
| mail record | `MAIL#<sha256 of the raw bytes>` | `MAIL` | one per distinct raw message: where it is kept (S3), its outcome and reason |
| inbound message | `MSGIN#<message-id>` | `MSGIN` | one per Message-ID handled: the outcome, the mail record that got it |
| thread link | `MSGID#<message-id>` | `MSGID` | written by the outbound notifier for each mail it sends: `ticket_number` |
| sender counter | `MAILRATE#<sender>` | `HOUR#<yyyy-mm-ddThh>` | `count` (ADD), TTL `expires_at` |

A quarantined mail record is in the sparse `quarantine` index (`quarantine_pk` = `QUARANTINE`,
`quarantine_sk` = `<received_at>#<sha256>`) until a manager releases it (outcome `released`).

A mail record is `pending` from the moment the message is seen, `failed` after an error that a
retry may fix, and final (every other outcome) once its effect and its outcome were written in
one transaction. Keys longer than DynamoDB allows (hostile Message-IDs, senders) are hashed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import (
    Item,
    Operation,
    Table,
    condition_failed,
    marshal,
    unmarshal,
)
from helpdesk.changes import MailHandled, MailReleased
from helpdesk.domain.calendar import iso
from helpdesk.domain.mail import MailOutcome, MailOutcomeKind
from helpdesk.ports import AlreadyRecorded, ConditionNotMet, Page

log = logging.getLogger(__name__)

PENDING = "pending"
FAILED = "failed"
OPEN_OUTCOMES = (PENDING, FAILED)
MAX_TEXT = 1000
RATE_TTL = timedelta(days=1)
MAX_RECIPIENTS = 50
QUARANTINE_INDEX = "quarantine"
QUARANTINED = MailOutcomeKind.QUARANTINED.value


mail_key = keys.mail_key
message_key = keys.inbound_message_key
thread_key = keys.message_id_key
rate_key = keys.mail_rate_key


def outcome_fields(outcome: MailOutcome) -> Item:
    values: Item = {
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "detail": outcome.detail[:MAX_TEXT] if outcome.detail else None,
        "ticket_number": outcome.ticket_number,
        "linked_ticket": outcome.linked_ticket,
        "comment_id": outcome.comment_id,
        "duplicate_of": outcome.duplicate_of,
        "attachments_pending": outcome.attachments_pending or None,
    }
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class MailRecord:
    sha256: str
    outcome: str
    s3_bucket: str
    s3_key: str
    reason: str | None = None
    detail: str | None = None
    ticket_number: int | None = None
    linked_ticket: int | None = None
    comment_id: str | None = None
    duplicate_of: str | None = None
    attachments_pending: bool = False
    rate_count: int | None = None
    received_at: str | None = None
    size: int | None = None
    sender: str | None = None
    subject: str | None = None
    message_id: str | None = None
    to: tuple[str, ...] = ()
    no_reply: str | None = None  # bulk or list mail: why it got no acknowledgement
    defects: str | None = None  # a broken MIME structure read anyway: what was wrong
    released_by: str | None = None
    released_at: str | None = None
    released_as: str | None = None

    @property
    def final(self) -> bool:
        return self.outcome not in OPEN_OUTCOMES

    @classmethod
    def from_item(cls, item: Item) -> MailRecord:
        def number(name: str) -> int | None:
            return int(item[name]) if item.get(name) is not None else None

        return cls(
            sha256=item["sha256"],
            outcome=item["outcome"],
            s3_bucket=item.get("s3_bucket", ""),
            s3_key=item.get("s3_key", ""),
            reason=item.get("reason"),
            detail=item.get("detail"),
            ticket_number=number("ticket_number"),
            linked_ticket=number("linked_ticket"),
            comment_id=item.get("comment_id"),
            duplicate_of=item.get("duplicate_of"),
            attachments_pending=bool(item.get("attachments_pending", False)),
            rate_count=number("rate_count"),
            received_at=item.get("received_at"),
            size=number("size"),
            sender=item.get("sender"),
            subject=item.get("subject"),
            message_id=item.get("message_id"),
            to=_recipients(item.get("to")),
            no_reply=item.get("no_reply"),
            defects=item.get("defects"),
            released_by=item.get("released_by"),
            released_at=item.get("released_at"),
            released_as=item.get("released_as"),
        )


def _recipients(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def quarantine_fields(table: Table, change: MailHandled) -> Item:
    """The `quarantine` index keys of a mail turning quarantined (none for other outcomes):
    newest first by the time it was received (the change's, else read from the record that
    `begin` wrote)."""
    if change.outcome.outcome != QUARANTINED:
        return {}
    received_at = change.received_at
    if received_at is None:
        stored = table.get(mail_key(change.sha256)) or {}
        received_at = stored.get("received_at") or iso(change.at)
    return {
        "quarantine_pk": keys.QUARANTINE_PK,
        "quarantine_sk": keys.quarantine_sk(received_at, change.sha256),
    }


def mail_handled_operations(
    table: Table, change: MailHandled
) -> list[tuple[Operation, Callable[[dict[str, Any]], Exception]]]:
    """Mark the mail (and its Message-ID) handled, on condition that neither was yet."""
    fields = {**outcome_fields(change.outcome), "handled_at": iso(change.at)}
    record_fields = {**fields, **quarantine_fields(table, change)}
    names = {f"#a{i}": k for i, k in enumerate(record_fields)}
    values: Item = {f":v{i}": v for i, v in enumerate(record_fields.values())}
    values.update({":pending": PENDING, ":failed": FAILED})
    record = table.update(
        mail_key(change.sha256),
        "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(record_fields))) + " REMOVE #error",
        condition="#outcome IN (:pending, :failed)",
        names={**names, "#outcome": "outcome", "#error": "error"},
        values=values,
    )
    operations: list[tuple[Operation, Callable[[dict[str, Any]], Exception]]] = [
        (record, lambda _r: AlreadyRecorded(message_taken=False))
    ]
    if change.message_id is not None:
        item = {
            **message_key(change.message_id),
            "entity": "inbound_message",
            "message_id": change.message_id[:MAX_TEXT],
            "mail_sha256": change.sha256,
            **fields,
        }
        operations.append((table.put_new(item), lambda _r: AlreadyRecorded(message_taken=True)))
    return operations


def mail_released_operation(
    table: Table, change: MailReleased
) -> tuple[Operation, Callable[[dict[str, Any]], Exception]]:
    """The quarantined mail record becomes `released` and leaves the `quarantine` index, on
    condition that it is still quarantined (ConditionNotMet: released by someone else)."""
    fields: Item = {
        "outcome": MailOutcomeKind.RELEASED.value,
        "released_by": change.released_by,
        "released_at": iso(change.at),
        "released_as": change.released_as,
        "ticket_number": change.ticket_number,
        "comment_id": change.comment_id,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    names = {f"#a{i}": k for i, k in enumerate(fields)}
    values: Item = {f":v{i}": v for i, v in enumerate(fields.values())}
    values[":quarantined"] = QUARANTINED
    operation = table.update(
        mail_key(change.sha256),
        "SET "
        + ", ".join(f"#a{i} = :v{i}" for i in range(len(fields)))
        + " REMOVE quarantine_pk, quarantine_sk",
        condition="#outcome = :quarantined",
        names={**names, "#outcome": "outcome"},
        values=values,
    )
    return operation, lambda _r: ConditionNotMet(change)


def summary_fields(summary: Item) -> Item:
    """The non-empty values of a mail's summary, as the record keeps them: text clipped to
    MAX_TEXT, a list (the recipients) to its first MAX_RECIPIENTS."""
    return {
        k: [str(x)[:MAX_TEXT] for x in v][:MAX_RECIPIENTS]
        if isinstance(v, list | tuple)
        else str(v)[:MAX_TEXT]
        for k, v in summary.items()
        if v
    }


class DynamoMailRepository:
    """The mail items, next to the tickets, in the same table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # ---------- the mail record ----------

    def begin(self, sha256: str, bucket: str, key: str, size: int, now: datetime) -> MailRecord:
        """Record the message as seen (once); the record as it stands."""
        item: Item = {
            **mail_key(sha256),
            "entity": "mail",
            "sha256": sha256,
            "s3_bucket": bucket,
            "s3_key": key,
            "size": size,
            "received_at": iso(now),
            "outcome": PENDING,
        }
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=marshal(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            stored = exc.response.get("Item")
            return MailRecord.from_item(unmarshal(stored) if stored else self._get_mail(sha256))
        return MailRecord.from_item(item)

    def _get_mail(self, sha256: str) -> Item:
        item = self.table.get(mail_key(sha256))
        if item is None:
            raise RuntimeError(f"mail record {sha256} vanished")
        return item

    def get(self, sha256: str) -> MailRecord:
        return MailRecord.from_item(self._get_mail(sha256))

    def describe(self, sha256: str, summary: Item) -> MailRecord | None:
        """Who sent it, to whom, about what: for the people who read quarantine (a list, the
        recipients, is kept as a list of its first MAX_RECIPIENTS). The record as it then
        stands (the same request); None when there is nothing to note (no request)."""
        fields = summary_fields(summary)
        if not fields:
            return None
        return self._set(sha256, fields)

    def _set(self, sha256: str, fields: Item, first: Item | None = None) -> MailRecord:
        """SET `fields`, and `first` only where not set yet, on the record: as it then stands."""
        once = first or {}
        names = {f"#a{i}": k for i, k in enumerate(fields)}
        names.update({f"#o{i}": k for i, k in enumerate(once)})
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        values.update({f":o{i}": v for i, v in enumerate(once.values())})
        sets = [f"#a{i} = :v{i}" for i in range(len(fields))]
        sets += [f"#o{i} = if_not_exists(#o{i}, :o{i})" for i in range(len(once))]
        stored = self.table.write(
            self.table.update(
                mail_key(sha256), "SET " + ", ".join(sets), names=names, values=values
            )
        )
        return MailRecord.from_item(stored or {})

    def fail(self, sha256: str, error: str, now: datetime) -> None:
        """Note an error on a mail not handled yet (best effort: it may be the error itself)."""
        try:
            self.table.write(
                self.table.update(
                    mail_key(sha256),
                    "SET #outcome = :failed, #error = :error, failed_at = :now",
                    condition="#outcome IN (:pending, :failed)",
                    names={"#outcome": "outcome", "#error": "error"},
                    values={
                        ":failed": FAILED,
                        ":pending": PENDING,
                        ":error": error[:MAX_TEXT],
                        ":now": iso(now),
                    },
                )
            )
        except (ClientError, BotoCoreError):
            log.exception("could not record the failure of mail %s", sha256)

    # ---------- quarantine ----------

    def find(self, sha256: str) -> MailRecord | None:
        """The mail record, or None when no message has these bytes."""
        item = self.table.get(mail_key(sha256))
        return MailRecord.from_item(item) if item is not None else None

    def quarantined(self, cursor: str | None, limit: int) -> Page[MailRecord]:
        """The quarantined records, newest received first (the sparse `quarantine` index:
        reads grow with the page, not with the mail received)."""
        page = self.table.page(
            index=QUARANTINE_INDEX,
            partition=keys.QUARANTINE_PK,
            cursor=cursor,
            limit=limit,
            newest_first=True,
        )
        return Page([MailRecord.from_item(item) for item in page.items], page.next_cursor)

    def attachments_stored(self, sha256: str) -> None:
        self.table.write(self.table.update(mail_key(sha256), "REMOVE attachments_pending"))

    # ---------- Message-IDs ----------

    def handled_message(self, message_id: str) -> Item | None:
        """The record of a Message-ID already handled, if any."""
        return self.table.get(message_key(message_id))

    def thread_ticket(self, message_ids: Sequence[str], limit: int = 20) -> int | None:
        """The ticket of the first of these ids that is one of our own sent messages.

        Looked up with and without angle brackets, in one batch read.
        """
        ids = [m for m in message_ids if len(m.encode()) <= keys.MAX_KEY_PART][:limit]
        if not ids:
            return None
        candidates = [(m, form) for m in ids for form in (m, f"<{m}>")]
        found = self.table.batch_get([thread_key(form) for _, form in candidates])
        for _, form in candidates:
            item = found.get((thread_key(form)["pk"], "MSGID"))
            if item is not None and item.get("ticket_number") is not None:
                return int(item["ticket_number"])
        return None

    # ---------- the sender's rate ----------

    def count_sender(
        self, sha256: str, sender: str, now: datetime, summary: Item | None = None
    ) -> MailRecord:
        """Count this message among the sender's messages of the hour (UTC), once: its rank
        is kept on the record (`rate_count`) and a retry of the same mail reuses it. The
        record's update notes `summary` too (as `describe`), and returns the record as it then
        stands, its rank included: one request for the counter, one for the record."""
        hour = now.strftime("%Y-%m-%dT%H")
        expires = int((now.replace(minute=0, second=0, microsecond=0) + RATE_TTL).timestamp())
        counted = self.table.write(
            self.table.update(
                rate_key(sender, hour),
                "SET entity = :entity, expires_at = :expires ADD #count :one",
                names={"#count": "count"},
                values={":entity": "mail_rate", ":expires": expires, ":one": 1},
            )
        )
        count = int((counted or {})["count"])
        return self._set(sha256, summary_fields(summary or {}), first={"rate_count": count})
