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

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.items import with_outbox_texts
from helpdesk.adapters.dynamodb.toolkit import Item, Operation, Table, condition_failed
from helpdesk.domain.calendar import iso
from helpdesk.domain.outbox import Channel, Delivery
from helpdesk.ports import OutboxKey

# Longer than the notifier function's timeout: a lease can only lapse once its run is over.
LEASE = timedelta(seconds=60)


class DynamoOutboxClaims:
    """Claims of the outbox items of one channel."""

    def __init__(self, table: Table, channel: Channel) -> None:
        self.table = table
        self.channel = channel

    def claim(
        self, key: OutboxKey, now: datetime, set_once: Mapping[str, Any] | None = None
    ) -> Item | None:
        """The item once claimed; None if it is pending nowhere (final, or leased). A mail's
        parts are `body` and `html`, however the item stores them (items.outbox_texts).

        `set_once` attributes are written on the first claim only (a mail's Message-ID).
        """
        values: Item = {
            ":sending": Delivery.SENDING.value,
            ":pending": Delivery.PENDING.value,
            ":outbox": "outbox",
            ":channel": self.channel.value,
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
        if self.channel is Channel.MAIL:
            channel = f"(attribute_not_exists(channel) OR {channel})"
        claim = self.table.update(
            key,
            f"SET {', '.join(assignments)} ADD attempts :one",
            condition=(
                f"entity = :outbox AND {channel} AND (delivery = :pending OR "
                "(delivery = :sending AND lease_until < :now))"
            ),
            values=values,
        )
        try:
            claimed = self.table.write(claim)
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return with_outbox_texts(claimed) if claimed is not None else None

    def delivery(self, key: OutboxKey) -> Item:
        """The item as stored now, read consistently: why a claim failed ({} if absent)."""
        return self.table.get(key) or {}

    def release(self, key: OutboxKey) -> None:
        """Back to pending after a failed run, so the event source's retry claims it again."""
        self.table.write(
            self.table.update(
                key,
                "SET delivery = :pending REMOVE lease_until",
                condition="delivery = :sending",
                values={":pending": Delivery.PENDING.value, ":sending": Delivery.SENDING.value},
            )
        )

    def _finish(
        self, key: OutboxKey, now: datetime, delivery: Delivery, results: Mapping[str, Any]
    ) -> Operation:
        names: dict[str, str] = {}
        values: Item = {
            ":final": delivery.value,
            ":now": iso(now),
            ":sending": Delivery.SENDING.value,
        }
        assignments = ["delivery = :final", "sent_at = :now"]
        for index, (name, value) in enumerate(results.items()):
            names[f"#r{index}"] = name
            values[f":r{index}"] = value
            assignments.append(f"#r{index} = :r{index}")
        return self.table.update(
            key,
            f"SET {', '.join(assignments)} REMOVE lease_until",
            condition="delivery = :sending",
            names=names or None,
            values=values,
        )

    def finish(
        self,
        key: OutboxKey,
        now: datetime,
        delivery: Delivery,
        results: Mapping[str, Any] | None = None,
    ) -> None:
        self.table.write(self._finish(key, now, delivery, results or {}))

    def finish_sent_mail(
        self, key: OutboxKey, now: datetime, message_id: str, ticket_number: int, kind: str
    ) -> None:
        """Sent, with the Message-ID -> ticket record that threads the client's replies."""
        thread = {
            **keys.message_id_key(message_id),
            "entity": "message_id",
            "ticket_number": ticket_number,
            "kind": kind,
            "sent_at": iso(now),
        }
        self.table.transact([self._finish(key, now, Delivery.SENT, {}), self.table.put(thread)])
