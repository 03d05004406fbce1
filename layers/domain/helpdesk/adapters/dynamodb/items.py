"""Domain values to DynamoDB items and back (plain Python values; the store marshals)."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from helpdesk.adapters.dynamodb import keys
from helpdesk.domain.budget import Consumption
from helpdesk.domain.calendar import iso, parse_instant
from helpdesk.domain.comments import Comment
from helpdesk.domain.contract import DEFAULT_CONTRACT, contract_json, parse_contract
from helpdesk.domain.directory import Consultant, Organisation, RosterRole
from helpdesk.domain.model import (
    ClosureReason,
    HistoryEvent,
    Priority,
    Quote,
    QuoteOutcome,
    Source,
    Status,
    Ticket,
    TicketType,
)
from helpdesk.domain.outbox import Channel, Delivery, WorkflowCommand
from helpdesk.domain.quote_schedule import DEFAULT_QUOTE_VALIDITY_DAYS
from helpdesk.domain.ticket_sla import parse_sla, sla_json, watch_at
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind

if TYPE_CHECKING:  # the outbox's types: a ticket read does not import the mail texts
    from helpdesk.domain.notifications import LinkRequest, Notification

Item = dict[str, Any]

# Ticket attributes the workflow owns; an update sets or removes exactly these.
TICKET_FIELDS = (
    "number",
    "title",
    "description",
    "type",
    "status",
    "support_level",
    "priority",
    "org_id",
    "requester",
    "requester_email",
    "source",
    "assignee",
    "version",
    "created_at",
    "updated_at",
    "held_from",
    "taken_at",
    "answered_at",
    "auto_close_at",
    "countdown_suspended",
    "closed_at",
    "closure_reason",
    "quotes",
    "linked_ticket",
    "attachments",
    "mail_thread",
    "sla",
)
INDEX_FIELDS = (
    "org_pk",
    "org_sk",
    "all_pk",
    "all_sk",
    "upd_pk",
    "upd_sk",
    "org_upd_pk",
    "org_upd_sk",
    "assignee_pk",
    "assignee_sk",
    "queue_pk",
    "queue_sk",
    "due_pk",
    "due_sk",
    "month_pk",
    "month_sk",
    "sla_pk",
    "sla_sk",
)


def _opt_iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def _opt_instant(text: Any) -> datetime | None:
    return parse_instant(text) if text else None


def quote_to_item(quote: Quote) -> Item:
    return {
        "version": quote.version,
        "amount": quote.amount,
        "days": quote.days,
        "description": quote.description,
        "validity_days": quote.validity_days,
        "submitted_by": quote.submitted_by,
        "submitted_at": iso(quote.submitted_at),
        "outcome": quote.outcome.value,
        "reason": quote.reason,
        "decided_by": quote.decided_by,
        "decided_at": _opt_iso(quote.decided_at),
    }


def quote_from_item(item: Item) -> Quote:
    return Quote(
        version=int(item["version"]),
        amount=Decimal(item["amount"]),
        days=Decimal(item["days"]) if item.get("days") is not None else None,
        description=item.get("description") or "",
        validity_days=int(item.get("validity_days", 30)),
        submitted_by=item["submitted_by"],
        submitted_at=parse_instant(item["submitted_at"]),
        outcome=QuoteOutcome(item["outcome"]),
        reason=item.get("reason"),
        decided_by=item.get("decided_by"),
        decided_at=_opt_instant(item.get("decided_at")),
    )


def ticket_index_fields(ticket: Ticket) -> Item:
    """The sparse index keys this ticket carries in its current state."""
    padded = keys.pad(ticket.number)
    by_update = f"{iso(ticket.updated_at)}#{padded}"
    fields: Item = {
        "org_pk": keys.org_index_pk(ticket.org_id),
        "org_sk": padded,
        "all_pk": keys.ALL_TICKETS_PK,
        "all_sk": padded,
        "upd_pk": keys.ALL_TICKETS_PK,
        "upd_sk": by_update,
        "org_upd_pk": keys.org_index_pk(ticket.org_id),
        "org_upd_sk": by_update,
    }
    closed = ticket.status is Status.CLOSED
    if ticket.assignee is not None:
        fields["assignee_pk"] = keys.assignee_pk(ticket.assignee, closed=closed)
        fields["assignee_sk"] = by_update
    elif not closed:
        fields["assignee_pk"] = keys.unassigned_pk(ticket.support_level)
        fields["assignee_sk"] = by_update
    if ticket.status is not Status.CLOSED:
        fields["queue_pk"] = keys.queue_pk(ticket.support_level)
        fields["queue_sk"] = padded
    if ticket.countdown_running and ticket.auto_close_at is not None:
        fields["due_pk"] = keys.DUE_PK
        fields["due_sk"] = f"{iso(ticket.auto_close_at)}#{padded}"
    watch = watch_at(ticket)
    if watch is not None:
        fields["sla_pk"] = keys.SLA_WATCH_PK
        fields["sla_sk"] = f"{iso(watch)}#{padded}"
    month = ticket.billing_month
    if month is not None:
        fields["month_pk"] = keys.month_pk(month)
        fields["month_sk"] = f"{ticket.org_id}#{padded}#QUOTE"
    return fields


def ticket_to_fields(ticket: Ticket) -> Item:
    """Every workflow-owned attribute (None for the absent ones) and the index keys."""
    fields: Item = {
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "type": ticket.type.value,
        "status": ticket.status.value,
        "support_level": ticket.support_level,
        "priority": ticket.priority.value,
        "org_id": ticket.org_id,
        "requester": ticket.requester,
        "requester_email": ticket.requester_email,
        "source": ticket.source.value,
        "assignee": ticket.assignee,
        "version": ticket.version,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "held_from": ticket.held_from.value if ticket.held_from else None,
        "taken_at": _opt_iso(ticket.taken_at),
        "answered_at": _opt_iso(ticket.answered_at),
        "auto_close_at": _opt_iso(ticket.auto_close_at),
        "countdown_suspended": ticket.countdown_suspended,
        "closed_at": _opt_iso(ticket.closed_at),
        "closure_reason": ticket.closure_reason.value if ticket.closure_reason else None,
        "quotes": [quote_to_item(q) for q in ticket.quotes],
        "linked_ticket": ticket.linked_ticket,
        "attachments": list(ticket.attachments),
        "mail_thread": ticket.mail_thread or None,
        # One string attribute (as the organisation's contract): read whole with the ticket.
        "sla": json.dumps(sla_json(ticket.sla), separators=(",", ":")) if ticket.sla else None,
    }
    index = ticket_index_fields(ticket)
    for name in INDEX_FIELDS:
        fields[name] = index.get(name)
    fields["awaiting_quote_version"] = awaiting_quote_version(ticket)
    return fields


def awaiting_quote_version(ticket: Ticket) -> int | None:
    """The quote version the client must decide on, only while the ticket awaits it.

    The quote-approval state machine stores its task token on condition that this still names
    its version (`quote_task_token`, `quote_task_version`: not workflow fields, never touched by
    an action's update).
    """
    if ticket.status is Status.AWAITING_QUOTE_APPROVAL and ticket.quote is not None:
        return ticket.quote.version
    return None


def word_items(ticket: Ticket, words: tuple[str, ...]) -> list[Item]:
    """One search item per index word of the title (helpdesk.domain.search)."""
    padded = keys.pad(ticket.number)
    return [
        {
            "pk": keys.ticket_pk(ticket.number),
            "sk": keys.word_sk(word),
            "entity": "ticket_word",
            "word_pk": keys.word_index_pk(word),
            "word_sk": f"{word}#{padded}",
            "org_word_pk": keys.word_index_pk(word, ticket.org_id),
            "org_word_sk": f"{word}#{padded}",
        }
        for word in words
    ]


def ticket_to_item(ticket: Ticket) -> Item:
    item = {k: v for k, v in ticket_to_fields(ticket).items() if v is not None}
    item.update(keys.ticket_key(ticket.number))
    item["entity"] = "ticket"
    item["time_spent_minutes"] = ticket.time_spent_minutes
    return item


def ticket_from_item(item: Item) -> Ticket:
    return Ticket(
        number=int(item["number"]),
        title=item["title"],
        description=item.get("description", ""),
        type=TicketType(item["type"]),
        org_id=item["org_id"],
        requester=item["requester"],
        requester_email=item.get("requester_email", ""),
        source=Source(item.get("source", "api")),
        created_at=parse_instant(item["created_at"]),
        updated_at=parse_instant(item["updated_at"]),
        status=Status(item["status"]),
        support_level=int(item["support_level"]),
        priority=Priority(item.get("priority", "normal")),
        assignee=item.get("assignee"),
        version=int(item["version"]),
        held_from=Status(item["held_from"]) if item.get("held_from") else None,
        taken_at=_opt_instant(item.get("taken_at")),
        answered_at=_opt_instant(item.get("answered_at")),
        auto_close_at=_opt_instant(item.get("auto_close_at")),
        countdown_suspended=bool(item.get("countdown_suspended", False)),
        closed_at=_opt_instant(item.get("closed_at")),
        closure_reason=ClosureReason(item["closure_reason"])
        if item.get("closure_reason")
        else None,
        quotes=tuple(quote_from_item(q) for q in item.get("quotes", [])),
        time_spent_minutes=int(item.get("time_spent_minutes", 0)),
        linked_ticket=int(item["linked_ticket"]) if item.get("linked_ticket") else None,
        attachments=tuple(item.get("attachments", [])),
        mail_thread=str(item.get("mail_thread") or ""),
        attachments_available=int(item.get("attachments_available", 0)),
        attachments_public=int(item.get("attachments_public", 0)),
        sla=(
            parse_sla(json.loads(item["sla"]), frozenset(item.get("sla_alerts", ())))
            if item.get("sla")
            else None
        ),
    )


def event_to_item(number: int, event: HistoryEvent) -> Item:
    return {
        "pk": keys.ticket_pk(number),
        "sk": keys.event_sk(event.version),
        "entity": "event",
        "version": event.version,
        "at": iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status.value,
        "to_status": event.to_status.value,
        "details": dict(event.details),
    }


def event_from_item(item: Item) -> HistoryEvent:
    return HistoryEvent(
        version=int(item["version"]),
        at=parse_instant(item["at"]),
        actor=item["actor"],
        action=item["action"],
        from_status=Status(item["from_status"]),
        to_status=Status(item["to_status"]),
        details={str(k): str(v) for k, v in item.get("details", {}).items()},
    )


def time_entry_to_item(entry: TimeEntry, ticket_type: TicketType) -> Item:
    padded = keys.pad(entry.ticket_number)
    return {
        "pk": keys.ticket_pk(entry.ticket_number),
        "sk": keys.time_sk(entry.id),
        "entity": "time_entry",
        "id": entry.id,
        "ticket_number": entry.ticket_number,
        "ticket_type": ticket_type.value,
        "org_id": entry.org_id,
        "consultant": entry.consultant,
        "date": entry.day.isoformat(),
        "month": entry.month,
        "minutes": entry.minutes,
        "kind": entry.kind.value,
        "comment": entry.comment,
        "billable": entry.billable,
        "created_at": iso(entry.created_at),
        "month_pk": keys.month_pk(entry.month),
        "month_sk": f"{entry.org_id}#{padded}#{entry.id}",
    }


def time_entry_from_item(item: Item) -> TimeEntry:
    return TimeEntry(
        id=item["id"],
        ticket_number=int(item["ticket_number"]),
        org_id=item["org_id"],
        consultant=item["consultant"],
        day=date.fromisoformat(item["date"]),
        minutes=int(item["minutes"]),
        kind=TimeKind(item["kind"]),
        comment=item.get("comment", ""),
        billable=bool(item["billable"]),
        created_at=parse_instant(item["created_at"]),
    )


def org_to_item(org: Organisation) -> Item:
    item: Item = {
        **keys.org_key(org.org_id),
        "entity": "organisation",
        "org_id": org.org_id,
        "name": org.name,
        "email_domains": list(org.email_domains),
        "auto_close_days": org.auto_close_days,
        "currency": org.currency,
        "quote_validity_days": org.quote_validity_days,
    }
    if org.hourly_rate is not None:
        item["hourly_rate"] = org.hourly_rate
    if org.contract != DEFAULT_CONTRACT:
        # One string attribute holding §10's JSON document: DynamoDB would hand its numbers
        # back as Decimal, and the document is read whole with the organisation.
        item["contract"] = json.dumps(contract_json(org.contract), sort_keys=True)
    return item


def org_from_item(item: Item) -> Organisation:
    rate = item.get("hourly_rate")
    return Organisation(
        org_id=item["org_id"],
        name=item["name"],
        email_domains=tuple(item.get("email_domains", [])),
        auto_close_days=int(item.get("auto_close_days", 7)),
        hourly_rate=Decimal(rate) if rate is not None else None,
        currency=item.get("currency", "EUR"),
        quote_validity_days=int(item.get("quote_validity_days", DEFAULT_QUOTE_VALIDITY_DAYS)),
        contract=(
            parse_contract(json.loads(item["contract"])) if "contract" in item else DEFAULT_CONTRACT
        ),
    )


def consultant_to_item(consultant: Consultant) -> Item:
    item: Item = {
        **keys.consultant_key(consultant.id),
        "entity": "consultant",
        "id": consultant.id,
        "name": consultant.name,
        "email": consultant.email,
        "active": consultant.active,
        "role": consultant.role.value,
    }
    if consultant.level is not None:  # a manager has no level
        item["level"] = consultant.level
    return item


def consultant_from_item(item: Item) -> Consultant:
    """Entries stored before `active` and `role` existed are active consultants."""
    level = item.get("level")
    return Consultant(
        id=item["id"],
        name=item["name"],
        email=item["email"],
        level=int(level) if level is not None else None,
        active=bool(item.get("active", True)),
        role=RosterRole(item.get("role", RosterRole.CONSULTANT.value)),
    )


def comment_to_item(comment: Comment) -> Item:
    at = iso(comment.at)
    item: Item = {
        "pk": keys.ticket_pk(comment.ticket_number),
        "sk": keys.comment_sk(at, comment.id),
        "entity": "comment",
        "id": comment.id,
        "ticket_number": comment.ticket_number,
        "author": comment.author,
        "author_role": comment.author_role,
        "body": comment.body,
        "internal": comment.internal,
        "at": at,
        "source": comment.source.value,
    }
    if comment.message_id:
        item["message_id"] = comment.message_id
    return item


def comment_from_item(item: Item) -> Comment:
    return Comment(
        id=item["id"],
        ticket_number=int(item["ticket_number"]),
        author=item["author"],
        author_role=item.get("author_role", ""),
        body=item["body"],
        internal=bool(item.get("internal", False)),
        at=parse_instant(item["at"]),
        source=Source(item.get("source", "api")),
        message_id=item.get("message_id"),
    )


def task_from_item(item: Item) -> Task:
    return Task(
        ticket_number=int(item["ticket_number"]),
        month=item["month"],
        title=item["title"],
        minutes=int(item.get("minutes", 0)),
    )


def outbox_to_item(notification: Notification, version: int, created_at: datetime) -> Item:
    """A message to send, stored with the change that causes it (the transactional outbox)."""
    item: Item = {
        "pk": keys.ticket_pk(notification.ticket_number),
        "sk": keys.outbox_sk(version, notification.key),
        "entity": "outbox",
        "channel": Channel.MAIL.value,
        "kind": notification.key,
        "ticket_number": notification.ticket_number,
        "subject": notification.subject,
        OUTBOX_TEXTS: pack_texts(notification.body, notification.html),
        "created_at": iso(created_at),
        "delivery": Delivery.PENDING.value,
    }
    if notification.to:
        item["to"] = notification.to
    if notification.to_consultant:
        item["to_consultant"] = notification.to_consultant
    if notification.to_level is not None:
        item["to_level"] = notification.to_level
    if notification.to_managers:
        item["to_managers"] = True
    if notification.ref:
        item["ref"] = notification.ref
    if notification.links:
        item["links"] = [link_request_to_item(link) for link in notification.links]
    if notification.thread:
        item["thread"] = notification.thread
    if notification.thread_seed:
        item["thread_seed"] = notification.thread_seed
    return item


# The mail's text and HTML parts, one zlib-compressed JSON binary attribute: a mail's two parts
# repeat each other, and stored plain they made most outbox items just over 1 KB, every write
# of them (queued, claimed, marked sent) 2 units instead of 1. An item stored before (#21)
# has them plain (`body`, `html`): `outbox_texts` reads both.
OUTBOX_TEXTS = "texts"


def pack_texts(body: str, html: str) -> bytes:
    text = json.dumps({"body": body, "html": html}, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode(), 9)


def outbox_texts(item: Item) -> tuple[str, str]:
    """(body, html) of a stored outbox mail, packed or plain ("" for an absent HTML part)."""
    packed = item.get(OUTBOX_TEXTS)
    if packed is None:
        return str(item.get("body") or ""), str(item.get("html") or "")
    raw: bytes = packed.value if hasattr(packed, "value") else packed  # boto3's Binary
    texts = json.loads(zlib.decompress(raw))
    return str(texts.get("body") or ""), str(texts.get("html") or "")


def with_outbox_texts(item: Item) -> Item:
    """The stored outbox item with its mail's parts as `body` and `html`, whichever way it was
    stored (a workflow command, which has none, unchanged)."""
    if OUTBOX_TEXTS not in item:
        return item
    body, html = outbox_texts(item)
    unpacked = {k: v for k, v in item.items() if k != OUTBOX_TEXTS}
    unpacked["body"] = body
    if html:
        unpacked["html"] = html
    return unpacked


def link_request_to_item(link: LinkRequest) -> Item:
    """One action link the notifier issues when it sends the mail (a map of the outbox item)."""
    item: Item = {"action": link.action}
    if link.quote_version is not None:
        item["quote_version"] = link.quote_version
    if link.answered_at is not None:
        item["answered_at"] = iso(link.answered_at)
    return item


def command_to_item(command: WorkflowCommand, version: int, created_at: datetime) -> Item:
    """A command to the quote-approval state machine, stored with the change that causes it."""
    return {
        "pk": keys.ticket_pk(command.ticket_number),
        "sk": keys.outbox_sk(version, command.kind.value),
        "entity": "outbox",
        "channel": Channel.WORKFLOW.value,
        "kind": command.kind.value,
        "ticket_number": command.ticket_number,
        **{k: v for k, v in command.data.items() if v is not None},
        "created_at": iso(created_at),
        "delivery": Delivery.PENDING.value,
    }


# ---------------------------------------------------------------- hour budgets (§10)
BUDGET_ALERT_ATTRIBUTES = {80: "alerted_80", 100: "alerted_100"}


def consumption_from_item(org_id: str, month: str, item: Item | None) -> Consumption:
    """The month counter as stored (zero, no alert, when absent)."""
    if item is None:
        return Consumption(org_id, month)
    alerted = frozenset(t for t, name in BUDGET_ALERT_ATTRIBUTES.items() if item.get(name))
    return Consumption(org_id, month, int(item.get("minutes", 0)), alerted)
