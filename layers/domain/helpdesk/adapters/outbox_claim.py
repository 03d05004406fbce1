"""The lease on one outbox item, shared by every channel (mails and workflow commands).

An item goes pending -> sending (claimed with a lease) -> a final state (sent, no_recipient),
or back to pending when its run fails. A claim succeeds on a pending item or on one whose
lease has lapsed (its run died), so a retried event can take it over; a replayed event finds
it final and does nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamo import DynamoStore, marshal
from helpdesk.adapters.items import OUTBOX_MAIL
from helpdesk.domain.calendar import iso

# Longer than the notifier function's timeout: a lease can only lapse once its run is over.
LEASE = timedelta(seconds=60)


class DeliveryInProgress(Exception):
    """Another run holds the item's lease; retrying later is the answer."""


class OutboxClaim:
    def __init__(self, store: DynamoStore, channel: str) -> None:
        self.store = store
        self.channel = channel

    def claim(
        self, key: Mapping[str, str], now: datetime, set_once: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The item's attributes (wire format) once claimed; None if pending nowhere.

        `set_once` attributes are written on the first claim only (a mail's Message-ID).
        """
        values: dict[str, Any] = {
            ":sending": "sending",
            ":pending": "pending",
            ":outbox": "outbox",
            ":channel": self.channel,
            ":lease": iso(now + LEASE),
            ":now": iso(now),
            ":one": 1,
        }
        assignments = ["delivery = :sending", "lease_until = :lease"]
        for index, (name, value) in enumerate((set_once or {}).items()):
            assignments.append(f"{name} = if_not_exists({name}, :once{index})")
            values[f":once{index}"] = value
        # An outbox item without `channel` is a mail stored before channels existed.
        channel = "channel = :channel"
        if self.channel == OUTBOX_MAIL:
            channel = f"(attribute_not_exists(channel) OR {channel})"
        try:
            reply = self.store.client.update_item(
                TableName=self.store.table,
                Key=marshal(dict(key)),
                UpdateExpression=f"SET {', '.join(assignments)} ADD attempts :one",
                ConditionExpression=(
                    f"entity = :outbox AND {channel} AND (delivery = :pending OR "
                    "(delivery = :sending AND lease_until < :now))"
                ),
                ExpressionAttributeValues=marshal(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        attributes: dict[str, Any] = reply["Attributes"]
        return attributes

    def delivery_state(self, key: Mapping[str, str]) -> dict[str, Any]:
        """The item as stored now (wire format), read consistently: why a claim failed."""
        item: dict[str, Any] = self.store.client.get_item(
            TableName=self.store.table, Key=marshal(dict(key)), ConsistentRead=True
        ).get("Item", {})
        return item

    def release(self, key: Mapping[str, str]) -> None:
        """Back to pending after a failed run, so the event source's retry claims it again."""
        self.store.client.update_item(
            TableName=self.store.table,
            Key=marshal(dict(key)),
            UpdateExpression="SET delivery = :pending REMOVE lease_until",
            ConditionExpression="delivery = :sending",
            ExpressionAttributeValues=marshal({":pending": "pending", ":sending": "sending"}),
        )

    def finish_update(
        self,
        key: Mapping[str, str],
        now: datetime,
        delivery: str,
        results: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The Update that ends the claim (alone, or in the caller's transaction)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":final": delivery, ":now": iso(now), ":sending": "sending"}
        assignments = ["delivery = :final", "sent_at = :now"]
        for index, (name, value) in enumerate((results or {}).items()):
            names[f"#r{index}"] = name
            values[f":r{index}"] = value
            assignments.append(f"#r{index} = :r{index}")
        update: dict[str, Any] = {
            "TableName": self.store.table,
            "Key": marshal(dict(key)),
            "UpdateExpression": f"SET {', '.join(assignments)} REMOVE lease_until",
            "ConditionExpression": "delivery = :sending",
            "ExpressionAttributeValues": marshal(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return update

    def finish(
        self,
        key: Mapping[str, str],
        now: datetime,
        delivery: str,
        results: Mapping[str, Any] | None = None,
    ) -> None:
        self.store.client.update_item(**self.finish_update(key, now, delivery, results))
