"""DynamoDB items of inbound mail (same table; see docs/data-model.md).

| item | pk | sk | what |
|---|---|---|---|
| mail record | `MAIL#<sha256 of the raw bytes>` | `MAIL` | one per distinct raw message: where it is kept (S3), its outcome and reason |
| inbound message | `MSGIN#<message-id>` | `MSGIN` | one per Message-ID handled: the outcome, the mail record that got it |
| thread link | `MSGID#<message-id>` | `MSGID` | written by the outbound notifier for each mail it sends: `ticket_number` |
| sender counter | `MAILRATE#<sender>` | `HOUR#<yyyy-mm-ddThh>` | `count` (ADD), TTL `expires_at` |

A mail record is `pending` from the moment the message is seen, `failed` after an error that a
retry may fix, and final (every other outcome) once its effect and its outcome were written in
one transaction. Keys longer than DynamoDB allows (hostile Message-IDs, senders) are hashed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.adapters.dynamo import DynamoStore, Item, marshal, unmarshal
from helpdesk.domain.calendar import iso

log = logging.getLogger(__name__)

PENDING = "pending"
FAILED = "failed"
OPEN_OUTCOMES = (PENDING, FAILED)
MAX_KEY_PART = 512
MAX_TEXT = 1000
RATE_TTL = timedelta(days=1)


def _bounded(value: str) -> str:
    """A key part DynamoDB accepts: long values (hostile headers) become their hash."""
    if len(value.encode()) <= MAX_KEY_PART:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def mail_key(sha256: str) -> dict[str, str]:
    return {"pk": f"MAIL#{sha256}", "sk": "MAIL"}


def message_key(message_id: str) -> dict[str, str]:
    return {"pk": f"MSGIN#{_bounded(message_id)}", "sk": "MSGIN"}


def thread_key(message_id: str) -> dict[str, str]:
    return {"pk": f"MSGID#{message_id}", "sk": "MSGID"}


def rate_key(sender: str, hour: str) -> dict[str, str]:
    return {"pk": f"MAILRATE#{_bounded(sender)}", "sk": f"HOUR#{hour}"}


@dataclass(frozen=True)
class Outcome:
    """What became of a message (written with its effect, in one transaction)."""

    outcome: str
    reason: str | None = None
    detail: str | None = None
    ticket_number: int | None = None
    linked_ticket: int | None = None
    comment_id: str | None = None
    duplicate_of: str | None = None
    attachments_pending: bool = False

    def fields(self) -> Item:
        values: Item = {
            "outcome": self.outcome,
            "reason": self.reason,
            "detail": self.detail[:MAX_TEXT] if self.detail else None,
            "ticket_number": self.ticket_number,
            "linked_ticket": self.linked_ticket,
            "comment_id": self.comment_id,
            "duplicate_of": self.duplicate_of,
            "attachments_pending": self.attachments_pending or None,
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
        )


class AlreadyRecorded(Exception):
    """The transaction found the mail (or its Message-ID) already handled: nothing applied."""

    def __init__(self, message_taken: bool) -> None:
        super().__init__("message already handled" if message_taken else "mail already handled")
        self.message_taken = message_taken


def cancellation_codes(exc: ClientError) -> list[str]:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]


class RecordingStore(DynamoStore):
    """A DynamoStore whose every transaction also writes the mail's outcome.

    `record(operations)` gives the operations that mark the mail handled (conditional on it
    not being handled yet) for the transaction about to run: the ticket creation or the comment
    then commits with its outcome, or neither does (AlreadyRecorded).
    """

    def __init__(self, base: DynamoStore, record: Callable[[list[Item]], list[Item]]) -> None:
        super().__init__(base.client, base.table)
        self._record = record

    def _transact(self, operations: list[dict[str, Any]]) -> None:
        extra = self._record(operations)
        try:
            super()._transact([*operations, *extra])
        except ClientError as exc:
            codes = cancellation_codes(exc)[len(operations) :]
            if "ConditionalCheckFailed" in codes:
                raise AlreadyRecorded(message_taken=codes[0] != "ConditionalCheckFailed") from exc
            raise


def created_ticket_number(operations: Sequence[Item]) -> int:
    """The number of the ticket a creation transaction puts."""
    for operation in operations:
        put = operation.get("Put")
        if put is not None:
            item = unmarshal(put["Item"])
            if item.get("sk") == "TICKET" and item.get("entity") == "ticket":
                return int(item["number"])
    raise RuntimeError("this transaction creates no ticket")


class MailStore:
    """The mail items, next to the tickets, in the store's table."""

    def __init__(self, store: DynamoStore) -> None:
        self.store = store
        self.client = store.client
        self.table = store.table

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
            self.client.put_item(
                TableName=self.table,
                Item=marshal(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored = exc.response.get("Item")
            return MailRecord.from_item(unmarshal(stored) if stored else self._get_mail(sha256))
        return MailRecord.from_item(item)

    def _get(self, key: dict[str, str]) -> Item | None:
        reply = self.client.get_item(TableName=self.table, Key=marshal(key), ConsistentRead=True)
        return unmarshal(reply["Item"]) if "Item" in reply else None

    def _get_mail(self, sha256: str) -> Item:
        item = self._get(mail_key(sha256))
        if item is None:
            raise RuntimeError(f"mail record {sha256} vanished")
        return item

    def get(self, sha256: str) -> MailRecord:
        return MailRecord.from_item(self._get_mail(sha256))

    def describe(self, sha256: str, summary: Item) -> None:
        """Who sent it, to whom, about what: for the people who read quarantine."""
        fields = {k: str(v)[:MAX_TEXT] for k, v in summary.items() if v}
        if not fields:
            return
        names = {f"#a{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        self.client.update_item(
            TableName=self.table,
            Key=marshal(mail_key(sha256)),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=marshal(values),
        )

    def outcome_operations(
        self, sha256: str, message_id: str | None, outcome: Outcome, now: datetime
    ) -> list[Item]:
        """Mark the mail (and its Message-ID) handled, on condition that neither was yet."""
        fields = {**outcome.fields(), "handled_at": iso(now)}
        names = {f"#a{i}": k for i, k in enumerate(fields)}
        values: Item = {f":v{i}": v for i, v in enumerate(fields.values())}
        values.update({":pending": PENDING, ":failed": FAILED})
        operations: list[Item] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": marshal(mail_key(sha256)),
                    "UpdateExpression": "SET "
                    + ", ".join(f"#a{i} = :v{i}" for i in range(len(fields)))
                    + " REMOVE #error",
                    "ConditionExpression": "#outcome IN (:pending, :failed)",
                    "ExpressionAttributeNames": {**names, "#outcome": "outcome", "#error": "error"},
                    "ExpressionAttributeValues": marshal(values),
                }
            }
        ]
        if message_id is not None:
            item = {
                **message_key(message_id),
                "entity": "inbound_message",
                "message_id": message_id[:MAX_TEXT],
                "mail_sha256": sha256,
                **fields,
            }
            operations.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": marshal(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        return operations

    def finish(
        self, sha256: str, message_id: str | None, outcome: Outcome, now: datetime
    ) -> MailRecord:
        """Record an outcome that has no other effect; AlreadyRecorded if handled meanwhile."""
        operations = self.outcome_operations(sha256, message_id, outcome, now)
        try:
            self.store._transact(operations)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if "ConditionalCheckFailed" not in codes:
                raise
            raise AlreadyRecorded(message_taken=codes[0] != "ConditionalCheckFailed") from exc
        return self.get(sha256)

    def fail(self, sha256: str, error: str, now: datetime) -> None:
        """Note an error on a mail not handled yet (best effort: it may be the error itself)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=marshal(mail_key(sha256)),
                UpdateExpression="SET #outcome = :failed, #error = :error, failed_at = :now",
                ConditionExpression="#outcome IN (:pending, :failed)",
                ExpressionAttributeNames={"#outcome": "outcome", "#error": "error"},
                ExpressionAttributeValues=marshal(
                    {
                        ":failed": FAILED,
                        ":pending": PENDING,
                        ":error": error[:MAX_TEXT],
                        ":now": iso(now),
                    }
                ),
            )
        except (ClientError, BotoCoreError):
            log.exception("could not record the failure of mail %s", sha256)

    def attachments_stored(self, sha256: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=marshal(mail_key(sha256)),
            UpdateExpression="REMOVE attachments_pending",
        )

    # ---------- Message-IDs ----------

    def handled_message(self, message_id: str) -> Item | None:
        """The record of a Message-ID already handled, if any."""
        return self._get(message_key(message_id))

    def thread_ticket(self, message_ids: Sequence[str], limit: int = 20) -> int | None:
        """The ticket of the first of these ids that is one of our own sent messages.

        Looked up with and without angle brackets, in one batch read.
        """
        ids = [m for m in message_ids if len(m.encode()) <= MAX_KEY_PART][:limit]
        if not ids:
            return None
        candidates = [(m, form) for m in ids for form in (m, f"<{m}>")]
        found = self.store.batch_get([thread_key(form) for _, form in candidates])
        for _, form in candidates:
            item = found.get((thread_key(form)["pk"], "MSGID"))
            if item is not None and item.get("ticket_number") is not None:
                return int(item["ticket_number"])
        return None

    # ---------- the sender's rate ----------

    def count_sender(self, sha256: str, sender: str, now: datetime) -> int:
        """This message's rank among the sender's messages of the hour (UTC), counted once:
        a retry of the same mail reuses the rank it was given."""
        hour = now.strftime("%Y-%m-%dT%H")
        expires = int((now.replace(minute=0, second=0, microsecond=0) + RATE_TTL).timestamp())
        reply = self.client.update_item(
            TableName=self.table,
            Key=marshal(rate_key(sender, hour)),
            UpdateExpression="SET entity = :entity, expires_at = :expires ADD #count :one",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues=marshal(
                {":entity": "mail_rate", ":expires": expires, ":one": 1}
            ),
            ReturnValues="UPDATED_NEW",
        )
        count = int(unmarshal(reply["Attributes"])["count"])
        try:
            self.client.update_item(
                TableName=self.table,
                Key=marshal(mail_key(sha256)),
                UpdateExpression="SET rate_count = :count",
                ConditionExpression="attribute_not_exists(rate_count)",
                ExpressionAttributeValues=marshal({":count": count}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored = self.get(sha256).rate_count
            return stored if stored is not None else count
        return count
