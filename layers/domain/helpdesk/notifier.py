"""Delivering the outbox: each message sent once, even when its event comes three times.

The outbox item is claimed with a conditional write (pending -> sending, with a lease), sent,
then marked sent together with the Message-ID -> ticket record that threads the client's
replies. A replayed event finds it sent and does nothing; a send that fails puts it back to
pending and raises, so the event source retries; a run that dies mid-send leaves a lease that
expires after the function's timeout, so the retry can claim it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import DynamoStore, marshal
from helpdesk.adapters.items import OUTBOX_MAIL
from helpdesk.adapters.mailer import render
from helpdesk.adapters.outbox_claim import DeliveryInProgress, OutboxClaim
from helpdesk.domain.calendar import iso

__all__ = ["Delivery", "DeliveryInProgress", "Notifier", "new_message_id"]


class Mailer(Protocol):
    sender: str

    def send(self, to: str, raw: bytes) -> None: ...


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent | already_sent | no_recipient
    message_id: str


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


class Notifier:
    def __init__(
        self,
        store: DynamoStore,
        mailer: Mailer,
        mail_domain: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.mailer = mailer
        self.mail_domain = mail_domain
        self.clock = clock
        self.claims = OutboxClaim(store, OUTBOX_MAIL)

    def deliver(self, pk: str, sk: str) -> Delivery:
        now = self.clock()
        key = {"pk": pk, "sk": sk}
        claimed = self.claims.claim(key, now, {"message_id": new_message_id(self.mail_domain)})
        if claimed is None:
            stored = self.claims.delivery_state(key)
            if stored.get("delivery", {}).get("S") == "sent":
                return Delivery("already_sent", stored.get("message_id", {}).get("S", ""))
            if stored.get("delivery", {}).get("S") == "no_recipient":
                return Delivery("no_recipient", "")
            raise DeliveryInProgress(f"{pk} {sk} is being sent by another run")
        message_id = str(claimed["message_id"]["S"])
        try:
            to = self._recipient(claimed)
            if to is None:
                # Terminal: retrying cannot find an address the roster does not have.
                self.claims.finish(key, now, "no_recipient")
                return Delivery("no_recipient", "")
            raw = render(
                sender=self.mailer.sender,
                to=to,
                subject=claimed["subject"]["S"],
                body=claimed["body"]["S"],
                message_id=message_id,
            )
            self.mailer.send(to, raw)
        except Exception:
            self.claims.release(key)
            raise
        self._mark_sent(key, claimed, message_id, now)
        return Delivery("sent", message_id)

    def _recipient(self, claimed: dict[str, Any]) -> str | None:
        """The address: stored, or a consultant's from the roster now (None: nobody to tell)."""
        if claimed.get("to", {}).get("S"):
            return str(claimed["to"]["S"])
        consultant = claimed.get("to_consultant", {}).get("S")
        if not consultant:
            return None
        found = self.store.client.get_item(
            TableName=self.store.table, Key=marshal(keys.consultant_key(consultant))
        ).get("Item", {})
        email = found.get("email", {}).get("S")
        return str(email) if email else None

    def _mark_sent(
        self, key: dict[str, str], claimed: dict[str, Any], message_id: str, now: datetime
    ) -> None:
        """Sent, with the Message-ID -> ticket record that threads the client's replies."""
        number = int(claimed["ticket_number"]["N"])
        self.store.client.transact_write_items(
            TransactItems=[
                {"Update": self.claims.finish_update(key, now, "sent")},
                {
                    "Put": {
                        "TableName": self.store.table,
                        "Item": marshal(
                            {
                                **keys.message_id_key(message_id),
                                "entity": "message_id",
                                "ticket_number": number,
                                "kind": claimed["kind"]["S"],
                                "sent_at": iso(now),
                            }
                        ),
                    }
                },
            ]
        )
