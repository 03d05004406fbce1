"""Helpers shared by the store and service integration tests (raw reads of the moto table)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from helpdesk.adapters import keys
from helpdesk.domain.model import Caller, Ticket
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import TABLE_NAME

_deserializer = TypeDeserializer()


def plain(raw: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-typed item as plain Python values."""
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def raw_item(client: Any, pk: str, sk: str) -> dict[str, Any] | None:
    """The stored item at (pk, sk), consistently read, or None."""
    reply = client.get_item(
        TableName=TABLE_NAME, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    return plain(reply["Item"]) if "Item" in reply else None


def ticket_item(client: Any, number: int) -> dict[str, Any]:
    item = raw_item(client, keys.ticket_pk(number), keys.TICKET_SK)
    assert item is not None, f"ticket #{number} is not stored"
    return item


def index_items(client: Any, index: str, partition: str) -> list[dict[str, Any]]:
    """Every item of one partition of a secondary index (`by_org` is keyed `org_pk`...)."""
    attribute = {
        "by_org": "org_pk",
        "all_tickets": "all_pk",
        "queue": "queue_pk",
        "due": "due_pk",
        "by_month": "month_pk",
    }[index]
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": TABLE_NAME,
        "IndexName": index,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": attribute},
        "ExpressionAttributeValues": {":p": {"S": partition}},
    }
    while True:
        reply = client.query(**kwargs)
        found.extend(plain(raw) for raw in reply.get("Items", []))
        if "LastEvaluatedKey" not in reply:
            return found
        kwargs["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


def index_sort_keys(client: Any, index: str, partition: str) -> list[str]:
    """The sort keys present in one index partition."""
    sort_attribute = {
        "by_org": "org_sk",
        "all_tickets": "all_sk",
        "queue": "queue_sk",
        "due": "due_sk",
        "by_month": "month_sk",
    }[index]
    return [item[sort_attribute] for item in index_items(client, index, partition)]


def queued_numbers(client: Any, level: int) -> list[int]:
    return [int(sk) for sk in index_sort_keys(client, "queue", keys.queue_pk(level))]


def due_numbers(client: Any) -> list[int]:
    return [int(sk.rsplit("#", 1)[1]) for sk in index_sort_keys(client, "due", keys.DUE_PK)]


def partition_items(client: Any, number: int, prefix: str) -> list[dict[str, Any]]:
    """The items of a ticket's partition whose sort key starts with `prefix`."""
    reply = client.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={
            ":pk": {"S": keys.ticket_pk(number)},
            ":prefix": {"S": prefix},
        },
        ConsistentRead=True,
    )
    return [plain(raw) for raw in reply.get("Items", [])]


def act(
    service: HelpdeskService,
    caller: Caller,
    number: int,
    action: Action,
    **params: Any,
) -> Ticket:
    """Perform an action, check the stored ticket is the transition's result, return it."""
    before = service.store.get_ticket(number)
    transition = service.perform(caller, number, action, ActionInput(**params))
    stored = service.store.get_ticket(number)
    assert stored.version == before.version + 1 == transition.ticket.version
    assert stored.status is transition.ticket.status
    item = ticket_item(service.store.client, number)
    assert item["version"] == stored.version
    assert item["status"] == stored.status.value
    assert stored.status_label == stored.status.label
    return stored
