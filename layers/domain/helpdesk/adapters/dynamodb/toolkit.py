"""The DynamoDB toolkit every adapter uses: one table gateway, one way to marshal, page,
transact and read why a transaction was cancelled.

Nothing outside `helpdesk.adapters` builds an expression, names an index or reads a raw item.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from helpdesk.domain.errors import Conflict, InvalidInput

Item = dict[str, Any]
Operation = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_ATTEMPTS = 6
BATCH_GET_ATTEMPTS = 8

# Hash and range key of the table (None) and of each secondary index (docs/data-model.md).
INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: ("pk", "sk"),
    "by_org": ("org_pk", "org_sk"),
    "all_tickets": ("all_pk", "all_sk"),
    "queue": ("queue_pk", "queue_sk"),
    "due": ("due_pk", "due_sk"),
    "by_month": ("month_pk", "month_sk"),
    "all_updated": ("upd_pk", "upd_sk"),
    "org_updated": ("org_upd_pk", "org_upd_sk"),
    "by_assignee": ("assignee_pk", "assignee_sk"),
    "words": ("word_pk", "word_sk"),
    "org_words": ("org_word_pk", "org_word_sk"),
    "quarantine": ("quarantine_pk", "quarantine_sk"),
    "sla_watch": ("sla_pk", "sla_sk"),
}


def marshal(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def unmarshal(item: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def cancellation_codes(exc: ClientError) -> list[str]:
    """The reason of each operation of a cancelled transaction, in order ([] otherwise)."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]


def condition_failed(exc: ClientError) -> bool:
    """A conditional write (alone or in a transaction) found the item otherwise."""
    code = exc.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException" or CONDITION_FAILED in cancellation_codes(exc)


def update_expression(fields: Mapping[str, Any], prefix: str = "") -> tuple[str, dict[str, str], Item]:
    """SET the non-None fields, REMOVE the None ones; returns expression, names, values."""
    names: dict[str, str] = {}
    values: Item = {}
    sets: list[str] = []
    removes: list[str] = []
    for i, (name, value) in enumerate(fields.items()):
        alias = f"#{prefix}f{i}"
        names[alias] = name
        if value is None:
            removes.append(alias)
        else:
            values[f":{prefix}v{i}"] = value
            sets.append(f"{alias} = :{prefix}v{i}")
    expression = ""
    if sets:
        expression += "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression.strip(), names, values


@dataclass(frozen=True)
class Page:
    """One page of items, and the key to resume after it (None: the last)."""

    items: list[Item]
    next_cursor: str | None


def encode_cursor(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(unmarshal(key), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, allowed_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.") from exc
    if (
        not isinstance(key, dict)
        or set(key) != allowed_keys
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
    return marshal(key)


class Table:
    """One DynamoDB table through one client: every read and write the adapters make."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # ---------- operations for a transaction ----------

    def put_new(self, item: Item) -> Operation:
        """Put an item that must not exist yet."""
        return {
            "Put": {
                "TableName": self.name,
                "Item": marshal(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def put(self, item: Item, condition: str | None = None, values: Item | None = None) -> Operation:
        put: dict[str, Any] = {"TableName": self.name, "Item": marshal(item)}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = marshal(values)
        return {"Put": put}

    def update(
        self,
        key: Mapping[str, str],
        expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Item | None = None,
        return_old_on_failure: bool = False,
    ) -> Operation:
        update: dict[str, Any] = {
            "TableName": self.name,
            "Key": marshal(key),
            "UpdateExpression": expression,
        }
        if condition:
            update["ConditionExpression"] = condition
        if names:
            update["ExpressionAttributeNames"] = dict(names)
        if values:
            update["ExpressionAttributeValues"] = marshal(values)
        if return_old_on_failure:
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}

    def delete(
        self,
        key: Mapping[str, str],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Item | None = None,
    ) -> Operation:
        delete: dict[str, Any] = {"TableName": self.name, "Key": marshal(key)}
        if condition:
            delete["ConditionExpression"] = condition
        if names:
            delete["ExpressionAttributeNames"] = dict(names)
        if values:
            delete["ExpressionAttributeValues"] = marshal(values)
        return {"Delete": delete}

    def check(
        self,
        key: Mapping[str, str],
        condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Item | None = None,
    ) -> Operation:
        check: dict[str, Any] = {
            "TableName": self.name,
            "Key": marshal(key),
            "ConditionExpression": condition,
        }
        if names:
            check["ExpressionAttributeNames"] = dict(names)
        if values:
            check["ExpressionAttributeValues"] = marshal(values)
        return {"ConditionCheck": check}

    # ---------- writing ----------

    def transact(self, operations: Sequence[Operation]) -> None:
        """TransactWriteItems, retried on TransactionConflict alone; a failed condition
        surfaces as the ClientError (read it with `cancellation_codes`)."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=list(operations))
                return
            except ClientError as exc:
                codes = cancellation_codes(exc)
                if codes and "TransactionConflict" in codes and CONDITION_FAILED not in codes:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
                    continue
                raise
        raise Conflict("The item is being changed by others right now; try again.")

    def write(self, operation: Operation) -> Item | None:
        """One operation alone (Put, Update or Delete), without a transaction.

        Returns the new attributes of an Update; raises ClientError as DynamoDB does.
        """
        (kind, request), = operation.items()
        if kind == "Put":
            self.client.put_item(**request)
            return None
        if kind == "Delete":
            self.client.delete_item(**request)
            return None
        request = {**request, "ReturnValues": "ALL_NEW"}
        request.pop("ReturnValuesOnConditionCheckFailure", None)
        reply = self.client.update_item(**request)
        return unmarshal(reply.get("Attributes", {}))

    # ---------- reading ----------

    def get(self, key: Mapping[str, str]) -> Item | None:
        reply = self.client.get_item(TableName=self.name, Key=marshal(key), ConsistentRead=True)
        return unmarshal(reply["Item"]) if "Item" in reply else None

    def batch_get(self, keys: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], Item]:
        """Several items (100 at most) in one request, retrying unprocessed keys; by (pk, sk)."""
        found: dict[tuple[str, str], Item] = {}
        if not keys:
            return found
        request: dict[str, Any] = {
            self.name: {"Keys": [marshal(k) for k in keys], "ConsistentRead": True}
        }
        for attempt in range(BATCH_GET_ATTEMPTS):
            reply = self.client.batch_get_item(RequestItems=request)
            for raw in reply.get("Responses", {}).get(self.name, []):
                item = unmarshal(raw)
                found[(item["pk"], item["sk"])] = item
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise Conflict("The table is too busy to read these items now; try again.")

    def query_raw(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every reply of a query, page after page (1 MB each): the one paginator."""
        kwargs["TableName"] = self.name
        while True:
            reply: dict[str, Any] = self.client.query(**kwargs)
            yield reply
            last = reply.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def query(self, **kwargs: Any) -> Iterator[Item]:
        """Every item of a query, unmarshalled."""
        for reply in self.query_raw(**kwargs):
            for raw in reply.get("Items", []):
                yield unmarshal(raw)

    def partition(self, pk: str, sk_prefix: str) -> Iterator[Item]:
        return self.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=marshal({":pk": pk, ":prefix": sk_prefix}),
            ConsistentRead=True,
        )

    def page(
        self,
        *,
        index: str | None,
        partition: str,
        sk_prefix: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
        filter_expression: str | None = None,
        cursor: str | None,
        limit: int,
        newest_first: bool = True,
        max_reads: int = 2000,
    ) -> Page:
        """One page of at most `limit` items of one partition (of the table or an index);
        a filter keeps reading until the page fills or `max_reads` items were read."""
        hash_key, range_key = INDEX_KEYS[index]
        condition = f"{hash_key} = :ipk"
        all_values: Item = {":ipk": partition, **(values or {})}
        if sk_prefix is not None:
            condition += f" AND begins_with({range_key}, :isk)"
            all_values[":isk"] = sk_prefix
        start = decode_cursor(cursor, {"pk", "sk", hash_key, range_key})
        if start is not None and start[hash_key] != marshal({"v": partition})["v"]:
            # Another partition's key: DynamoDB refuses it, moto silently starts over.
            raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
        collected: list[Item] = []
        read = 0
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.name,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": marshal(all_values),
                "ScanIndexForward": not newest_first,
                "Limit": limit - len(collected),
            }
            if index is not None:
                kwargs["IndexName"] = index
            else:
                kwargs["ConsistentRead"] = True
            if names:
                kwargs["ExpressionAttributeNames"] = names
            if filter_expression:
                kwargs["FilterExpression"] = filter_expression
            if start:
                kwargs["ExclusiveStartKey"] = start
            try:
                reply = self.client.query(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if cursor and code == "ValidationException":
                    raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.") from exc
                raise
            collected.extend(unmarshal(raw) for raw in reply.get("Items", []))
            read += reply.get("ScannedCount", 0)
            start = reply.get("LastEvaluatedKey")
            if not start or len(collected) >= limit or read >= max_reads:
                return Page(collected, encode_cursor(start))
