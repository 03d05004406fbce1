"""Reads and writes of the scheduled jobs, through the sparse indexes only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from helpdesk.adapters import items as it
from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import DynamoStore, marshal, unmarshal
from helpdesk.domain import notifications
from helpdesk.domain.calendar import iso
from helpdesk.domain.model import Ticket

LEVELS = (1, 2, 3)


class ReadCounter(Protocol):
    items_read: int


def _query(
    store: DynamoStore, report: ReadCounter, kwargs: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    kwargs["TableName"] = store.table
    while True:
        reply = store.client.query(**kwargs)
        report.items_read += int(reply.get("ScannedCount", 0))
        for raw in reply.get("Items", []):
            yield unmarshal(raw)
        last = reply.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def due_tickets(
    store: DynamoStore,
    *,
    until: datetime,
    report: ReadCounter,
    after: datetime | None = None,
    unreminded_only: bool = False,
) -> Iterator[Ticket]:
    """Tickets whose countdown ends in (after, until], from the sparse `due` index."""
    values: dict[str, Any] = {":due": keys.DUE_PK, ":until": f"{iso(until)}#~"}
    if after is None:
        condition = "due_pk = :due AND due_sk <= :until"
    else:
        condition = "due_pk = :due AND due_sk BETWEEN :after AND :until"
        values[":after"] = f"{iso(after)}#~"
    kwargs: dict[str, Any] = {
        "IndexName": "due",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": marshal(values),
    }
    for item in _query(store, report, kwargs):
        if unreminded_only and item.get("reminded_for") == item.get("auto_close_at"):
            continue
        yield it.ticket_from_item(item)


def open_tickets(store: DynamoStore, *, report: ReadCounter) -> Iterator[Ticket]:
    """Every ticket not closed, level queue after level queue (sparse `queue` index)."""
    for level in LEVELS:
        kwargs: dict[str, Any] = {
            "IndexName": "queue",
            "KeyConditionExpression": "queue_pk = :queue",
            "ExpressionAttributeValues": marshal({":queue": keys.queue_pk(level)}),
        }
        for item in _query(store, report, kwargs):
            yield it.ticket_from_item(item)


def mark_reminded(store: DynamoStore, ticket: Ticket, now: datetime) -> bool:
    """Record the reminder for this due time with its message, once (one transaction).

    False when it was already sent for this due time, or the ticket moved on.
    """
    assert ticket.auto_close_at is not None
    due = iso(ticket.auto_close_at)
    operations: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": store.table,
                "Key": marshal(keys.ticket_key(ticket.number)),
                "UpdateExpression": "SET reminded_for = :due, reminded_at = :now",
                "ConditionExpression": (
                    "#status = :answer_sent AND auto_close_at = :due AND #version = :version "
                    "AND (attribute_not_exists(reminded_for) OR reminded_for <> :due)"
                ),
                "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                "ExpressionAttributeValues": marshal(
                    {
                        ":due": due,
                        ":now": iso(now),
                        ":answer_sent": "answer_sent",
                        ":version": ticket.version,
                    }
                ),
            }
        }
    ]
    message = notifications.reminder(ticket)
    if message is not None:
        item = it.outbox_to_item(message, ticket.version, now)
        operations.append(
            {
                "Put": {
                    "TableName": store.table,
                    "Item": marshal(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
    try:
        store.client.transact_write_items(TransactItems=operations)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
