"""Delivering the outbox: each message sent once, even when its event comes three times.

The outbox item is claimed with a conditional write (pending -> sending, with a lease), sent,
then marked sent together with the Message-ID -> ticket record that threads the client's
replies. A replayed event finds it sent and does nothing; a send that fails puts it back to
pending and raises, so the event source retries; a run that dies mid-send leaves a lease that
expires after the function's timeout, so the retry can claim it again.

At send time, after the claim (DESIGN.md §8):
- the recipients: the stored address, a consultant's from the roster (`to_consultant`), or every
  active consultant of a level (`to_level`, one mail with all of them in To), or every active
  manager (`to_managers`);
- the action links: one token issued per link the mail asks for (ActionLinks.issue, 30 days),
  `{{link:<action>}}` replaced by `<APP_URL>/app/l/<token>` and `{{app}}` by APP_URL. Tokens
  exist only in the mail: a retry after a failed send issues new ones (the old ones were never
  mailed, and expire unused);
- the threading: every mail of a ticket refers to its root, the Message-ID of the mail that
  created the ticket or else `<thread_seed@MAIL_DOMAIN>`, which the acknowledgement of a ticket
  created without a mail takes as its own Message-ID.
"""

from __future__ import annotations

import html as html_text
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.domain.calendar import parse_instant
from helpdesk.domain.directory import active_managers
from helpdesk.domain.mail_out import render
from helpdesk.domain.notifications import NotificationKind
from helpdesk.domain.outbox import Delivery
from helpdesk.ports import (
    ActionLinks,
    DeliveryInProgress,
    DirectoryRepository,
    LinkGrant,
    Mailer,
    OutboxClaims,
    OutboxKey,
)

__all__ = [
    "LINK_VALIDITY",
    "Delivery",
    "DeliveryInProgress",
    "MailDelivery",
    "Notifier",
    "UnknownPlaceholder",
    "new_message_id",
]

LINK_VALIDITY = timedelta(days=30)  # DESIGN.md §8: a link expires after 30 days
PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


@dataclass(frozen=True)
class MailDelivery:
    outcome: str  # sent | already_sent | no_recipient
    message_id: str


class UnknownPlaceholder(ValueError):
    """The text holds a `{{...}}` the mail gives no value for (a bug in the texts)."""


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def _angle(message_id: str) -> str:
    """A Message-ID as headers carry it: `<id>` (an inbound mail's may be stored without)."""
    return message_id if message_id.startswith("<") else f"<{message_id}>"


class Notifier:
    def __init__(
        self,
        claims: OutboxClaims,
        directory: DirectoryRepository,
        mailer: Mailer,
        mail_domain: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        links: ActionLinks | None = None,
        app_url: str = "",
    ) -> None:
        self.claims = claims
        self.directory = directory
        self.mailer = mailer
        self.mail_domain = mail_domain
        self.clock = clock
        self.links = links
        self.app_url = app_url.rstrip("/")

    def deliver(self, pk: str, sk: str) -> MailDelivery:
        now = self.clock()
        key: OutboxKey = {"pk": pk, "sk": sk}
        claimed = self.claims.claim(key, now, {"message_id": new_message_id(self.mail_domain)})
        if claimed is None:
            stored = self.claims.delivery(key)
            if stored.get("delivery") == Delivery.SENT.value:
                return MailDelivery("already_sent", self._message_id(stored))
            if stored.get("delivery") == Delivery.NO_RECIPIENT.value:
                return MailDelivery("no_recipient", "")
            raise DeliveryInProgress(f"{pk} {sk} is being sent by another run")
        message_id = self._message_id(claimed)
        try:
            to = self._recipients(claimed)
            if not to:
                # Terminal: retrying cannot find an address the roster does not have.
                self.claims.finish(key, now, Delivery.NO_RECIPIENT)
                return MailDelivery("no_recipient", "")
            body, html = str(claimed["body"]), str(claimed.get("html") or "")
            values = self._values(claimed, now, body + html)
            root = self.thread_root(claimed)
            raw = render(
                sender=self.mailer.sender,
                to=to,
                subject=str(claimed["subject"]),
                body=_fill(body, values),
                html=_fill(html, values, escape=True),
                message_id=message_id,
                in_reply_to=root if root != message_id else None,
            )
            self.mailer.send(", ".join(to), raw)
        except Exception:
            self.claims.release(key)
            raise
        number = int(claimed["ticket_number"])
        self.claims.finish_sent_mail(key, now, message_id, number, str(claimed["kind"]))
        return MailDelivery("sent", message_id)

    # ------------------------------------------------------------------ threading
    def thread_root(self, item: Mapping[str, Any]) -> str | None:
        """The ticket's first mail: the one that created it, or else its acknowledgement's
        Message-ID made from the seed (None for an item stored before threading)."""
        if item.get("thread"):
            return _angle(str(item["thread"]))
        if item.get("thread_seed"):
            return f"<{item['thread_seed']}@{self.mail_domain}>"
        return None

    def _message_id(self, item: Mapping[str, Any]) -> str:
        """The root for the requester's acknowledgement of a ticket no mail created (it starts
        the thread); otherwise the fresh one the first claim stored on the item."""
        root = self.thread_root(item)
        starts_thread = (
            item.get("kind") == NotificationKind.CREATED.value
            and bool(item.get("to"))
            and not item.get("thread")
        )
        if starts_thread and root is not None:
            return root
        return str(item.get("message_id", ""))

    # ------------------------------------------------------------------ recipients
    def _recipients(self, claimed: Mapping[str, Any]) -> list[str]:
        """The addresses: stored, or from the roster now ([]: nobody to tell); with
        `to_managers`, the active managers' too."""
        found = self._addressees(claimed)
        if claimed.get("to_managers"):
            for manager in active_managers(self.directory.list_consultants()):
                if manager.email and manager.email not in found:
                    found.append(manager.email)
        return found

    def _addressees(self, claimed: Mapping[str, Any]) -> list[str]:
        if claimed.get("to"):
            return [str(claimed["to"])]
        consultant_id = claimed.get("to_consultant")
        if consultant_id:
            consultant = self.directory.get_consultant(str(consultant_id))
            return [consultant.email] if consultant is not None and consultant.email else []
        if claimed.get("to_level") is not None:
            level = int(claimed["to_level"])
            found: list[str] = []
            for consultant in self.directory.list_consultants():
                active_here = consultant.assignable_level == level  # None when inactive
                if active_here and consultant.email and consultant.email not in found:
                    found.append(consultant.email)
            return found
        if claimed.get("to_managers"):
            managers = active_managers(self.directory.list_consultants())
            return list(dict.fromkeys(m.email for m in managers if m.email))
        return []

    # ------------------------------------------------------------------ placeholders
    def _values(self, claimed: Mapping[str, Any], now: datetime, texts: str) -> dict[str, str]:
        """`app` and one `link:<action>` per link the mail asks for (each a new token).

        Every placeholder of the texts is checked first: no token is issued for a mail that
        cannot be sent."""
        requests = claimed.get("links") or []
        known = {"app", *(f"link:{request['action']}" for request in requests)}
        for name in PLACEHOLDER.findall(texts):
            if name not in known:
                raise UnknownPlaceholder(f"no value for {{{{{name}}}}} in this mail")
        values = {"app": self.app_url}
        if requests and self.links is None:
            raise RuntimeError("this mail carries action links and the notifier has no ActionLinks")
        for request in requests:
            assert self.links is not None
            grant = LinkGrant(
                ticket_number=int(claimed["ticket_number"]),
                action=str(request["action"]),
                quote_version=(
                    int(request["quote_version"])
                    if request.get("quote_version") is not None
                    else None
                ),
                answered_at=(
                    parse_instant(str(request["answered_at"]))
                    if request.get("answered_at")
                    else None
                ),
                expires_at=now + LINK_VALIDITY,
            )
            token = self.links.issue(grant)
            values[f"link:{grant.action}"] = f"{self.app_url}/app/l/{token}"
        return values


def _fill(text: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Each `{{name}}` replaced by its value (HTML-escaped in the HTML part)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UnknownPlaceholder(f"no value for {{{{{name}}}}} in this mail")
        return html_text.escape(values[name], quote=True) if escape else values[name]

    return PLACEHOLDER.sub(value, text)
