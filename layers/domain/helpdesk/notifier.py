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
from typing import Any

from helpdesk.domain.mail_out import render
from helpdesk.domain.outbox import Delivery
from helpdesk.ports import (
    DeliveryInProgress,
    DirectoryRepository,
    Mailer,
    OutboxClaims,
    OutboxKey,
)

__all__ = ["Delivery", "DeliveryInProgress", "MailDelivery", "Notifier", "new_message_id"]


@dataclass(frozen=True)
class MailDelivery:
    outcome: str  # sent | already_sent | no_recipient
    message_id: str


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


class Notifier:
    def __init__(
        self,
        claims: OutboxClaims,
        directory: DirectoryRepository,
        mailer: Mailer,
        mail_domain: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.claims = claims
        self.directory = directory
        self.mailer = mailer
        self.mail_domain = mail_domain
        self.clock = clock

    def deliver(self, pk: str, sk: str) -> MailDelivery:
        now = self.clock()
        key: OutboxKey = {"pk": pk, "sk": sk}
        claimed = self.claims.claim(key, now, {"message_id": new_message_id(self.mail_domain)})
        if claimed is None:
            stored = self.claims.delivery(key)
            if stored.get("delivery") == Delivery.SENT.value:
                return MailDelivery("already_sent", str(stored.get("message_id", "")))
            if stored.get("delivery") == Delivery.NO_RECIPIENT.value:
                return MailDelivery("no_recipient", "")
            raise DeliveryInProgress(f"{pk} {sk} is being sent by another run")
        message_id = str(claimed["message_id"])
        try:
            to = self._recipient(claimed)
            if to is None:
                # Terminal: retrying cannot find an address the roster does not have.
                self.claims.finish(key, now, Delivery.NO_RECIPIENT)
                return MailDelivery("no_recipient", "")
            raw = render(
                sender=self.mailer.sender,
                to=to,
                subject=str(claimed["subject"]),
                body=str(claimed["body"]),
                message_id=message_id,
            )
            self.mailer.send(to, raw)
        except Exception:
            self.claims.release(key)
            raise
        number = int(claimed["ticket_number"])
        self.claims.finish_sent_mail(key, now, message_id, number, str(claimed["kind"]))
        return MailDelivery("sent", message_id)

    def _recipient(self, claimed: dict[str, Any]) -> str | None:
        """The address: stored, or a consultant's from the roster now (None: nobody to tell)."""
        if claimed.get("to"):
            return str(claimed["to"])
        consultant_id = claimed.get("to_consultant")
        if not consultant_id:
            return None
        consultant = self.directory.get_consultant(str(consultant_id))
        return consultant.email if consultant is not None and consultant.email else None
