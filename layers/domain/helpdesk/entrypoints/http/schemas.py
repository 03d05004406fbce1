"""Request and response bodies (pydantic v2), and the functions shaping domain values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.calendar import iso
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.model import HistoryEvent, Priority, Quote, Ticket, TicketType
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind

# ---------------------------------------------------------------- requests


class Model(BaseModel):
    """Validators are built on first use, not at import: a cold start builds only its route's."""

    model_config = ConfigDict(defer_build=True)


class Body(Model):
    """Unknown fields are refused: nothing a client sent is silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class TicketIn(Body):
    title: str = Field(max_length=1000)
    description: str = Field(default="", max_length=100_000)
    type: TicketType
    org_id: str | None = Field(default=None, description="required when not a client")


class ActionIn(Body):
    """Every field an action may take; which ones count depends on the action."""

    assignee: str | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    amount: Decimal | None = Field(default=None, description='EUR, e.g. "1200.00"')
    days: Decimal | None = None
    description: str | None = None
    validity_days: int | None = None
    reason: str | None = None
    message: str | None = None
    note: str | None = None
    quote_version: int | None = None


class CommentIn(Body):
    body: str
    internal: bool = False


class TimeEntryIn(Body):
    minutes: Annotated[int, Field(gt=0, le=1440)]
    date: Annotated[dt.date | None, Field(description="default: today in Europe/Paris")] = None
    kind: TimeKind = TimeKind.REALISATION
    comment: str = Field(default="", max_length=2000)


class OrgIn(Body):
    org_id: str | None = Field(default=None, description="if given, the path's org_id")
    name: str
    email_domains: list[str] = Field(default_factory=list)
    auto_close_days: Annotated[int, Field(ge=1, le=365)] = 7
    hourly_rate: Decimal | None = None
    currency: str = "EUR"


class ConsultantIn(Body):
    id: str | None = Field(default=None, description="if given, the path's id")
    name: str
    email: str
    level: Annotated[int, Field(ge=1, le=3)]


# --------------------------------------------------------------- responses


class QuoteOut(Model):
    version: int
    amount: str
    days: str | None
    description: str
    validity_days: int
    outcome: str
    reason: str | None
    submitted_by: str
    submitted_at: str
    decided_by: str | None
    decided_at: str | None


class TicketOut(Model):
    number: int
    title: str
    description: str
    type: str
    type_label: str
    status: str
    status_label: str
    support_level: int
    priority: str
    org_id: str
    requester: str
    assignee: str | None
    version: int
    created_at: str
    updated_at: str
    auto_close_at: str | None
    quote: QuoteOut | None
    time_spent_minutes: int
    closure_reason: str | None
    closed_at: str | None
    linked_ticket: int | None
    attachments: list[str]
    allowed_actions: list[str]


class TicketList(Model):
    items: list[TicketOut]
    next_cursor: str | None


class HistoryEventOut(Model):
    version: int
    at: str
    actor: str
    action: str
    from_status: str
    to_status: str
    details: dict[str, str]


class HistoryList(Model):
    items: list[HistoryEventOut]
    next_cursor: str | None = None


class CommentOut(Model):
    id: str
    body: str
    internal: bool
    author: str
    author_role: str
    at: str
    source: str


class CommentList(Model):
    items: list[CommentOut]
    next_cursor: str | None = None


class QuoteList(Model):
    items: list[QuoteOut]
    next_cursor: str | None = None


class TimeEntryOut(Model):
    id: str
    ticket_number: int
    consultant: str
    date: str
    month: str
    minutes: int
    kind: str
    comment: str
    billable: bool
    created_at: str


class TimeEntryList(Model):
    items: list[TimeEntryOut]
    next_cursor: str | None = None


class TaskOut(Model):
    month: str
    title: str
    minutes: int


class TaskList(Model):
    items: list[TaskOut]
    next_cursor: str | None = None


class OrgOut(Model):
    org_id: str
    name: str
    email_domains: list[str]
    auto_close_days: int
    hourly_rate: str | None
    currency: str


class ConsultantOut(Model):
    id: str
    name: str
    email: str
    level: int


class ConsultantList(Model):
    items: list[ConsultantOut]
    next_cursor: str | None = None


class Problem(Model):
    """RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str
    title: str
    status: int
    detail: str
    allowed_actions: list[str] | None = Field(default=None, description="on 409")
    field: str | None = Field(default=None, description="on 422: the offending field")
    errors: list[dict[str, str]] | None = Field(default=None, description="on 422")
    current_version: int | None = Field(default=None, description="on 412")


# ------------------------------------------------------------------ shaping


def money_text(amount: Decimal) -> str:
    """Money is a JSON string with two decimals: `"1200.00"`."""
    return f"{amount.quantize(Decimal('0.01')):.2f}"


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _opt_iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment)


# Each builder constructs its `*Out` model: the reply is that model, serialised by the resolver
# (the route's return annotation), so it has exactly the fields the OpenAPI document shows. An
# undeclared keyword is refused by mypy (pydantic plugin, init_forbid_extra) and never serialised;
# a missing required field fails at construction.


def quote_out(quote: Quote) -> QuoteOut:
    return QuoteOut(
        version=quote.version,
        amount=money_text(quote.amount),
        days=decimal_text(quote.days),
        description=quote.description,
        validity_days=quote.validity_days,
        outcome=quote.outcome.value,
        reason=quote.reason,
        submitted_by=quote.submitted_by,
        submitted_at=iso(quote.submitted_at),
        decided_by=quote.decided_by,
        decided_at=_opt_iso(quote.decided_at),
    )


def ticket_out(ticket: Ticket, allowed_actions: list[str]) -> TicketOut:
    latest = ticket.quote
    return TicketOut(
        number=ticket.number,
        title=ticket.title,
        description=ticket.description,
        type=ticket.type.value,
        type_label=ticket.type.label,
        status=ticket.status.value,
        status_label=ticket.status.label,
        support_level=ticket.support_level,
        priority=ticket.priority.value,
        org_id=ticket.org_id,
        requester=ticket.requester,
        assignee=ticket.assignee,
        version=ticket.version,
        created_at=iso(ticket.created_at),
        updated_at=iso(ticket.updated_at),
        # A client's reply suspends the countdown: no date is due while it is suspended.
        auto_close_at=_opt_iso(ticket.auto_close_at) if ticket.countdown_running else None,
        quote=quote_out(latest) if latest else None,
        time_spent_minutes=ticket.time_spent_minutes,
        closure_reason=ticket.closure_reason.value if ticket.closure_reason else None,
        closed_at=_opt_iso(ticket.closed_at),
        linked_ticket=ticket.linked_ticket,
        attachments=list(ticket.attachments),
        allowed_actions=allowed_actions,
    )


def event_out(event: HistoryEvent) -> HistoryEventOut:
    return HistoryEventOut(
        version=event.version,
        at=iso(event.at),
        actor=event.actor,
        action=event.action,
        from_status=event.from_status.value,
        to_status=event.to_status.value,
        details=dict(event.details),
    )


def comment_out(comment: Comment) -> CommentOut:
    return CommentOut(
        id=comment.id,
        body=comment.body,
        internal=comment.internal,
        author=comment.author,
        author_role=comment.author_role,
        at=iso(comment.at),
        source=comment.source,
    )


def time_entry_out(entry: TimeEntry) -> TimeEntryOut:
    return TimeEntryOut(
        id=entry.id,
        ticket_number=entry.ticket_number,
        consultant=entry.consultant,
        date=entry.day.isoformat(),
        month=entry.month,
        minutes=entry.minutes,
        kind=entry.kind.value,
        comment=entry.comment,
        billable=entry.billable,
        created_at=iso(entry.created_at),
    )


def task_out(task: Task) -> TaskOut:
    return TaskOut(month=task.month, title=task.title, minutes=task.minutes)


def org_out(org: Organisation) -> OrgOut:
    return OrgOut(
        org_id=org.org_id,
        name=org.name,
        email_domains=list(org.email_domains),
        auto_close_days=org.auto_close_days,
        hourly_rate=money(org.hourly_rate),
        currency=org.currency,
    )


def consultant_out(consultant: Consultant) -> ConsultantOut:
    return ConsultantOut(
        id=consultant.id,
        name=consultant.name,
        email=consultant.email,
        level=consultant.level,
    )


# ------------------------------------------------------------------ OpenAPI

PROBLEM_DESCRIPTIONS = {
    401: "No or a bad token",
    403: "The caller's role never does this",
    404: "No such resource, or another organisation's ticket",
    409: "Refused action (allowed_actions), locked month, conflict",
    412: "Stale If-Match (current_version)",
    422: "Invalid input (field, errors)",
}


def responses(success: int, model: type[BaseModel], *problems: int) -> dict[int, OpenAPIResponse]:
    """The route's documented answers: its success body and its problem answers."""
    documented: dict[int, OpenAPIResponse] = {
        success: {"description": "OK", "content": {"application/json": {"model": model}}}
    }
    for code in sorted({401, 403, 422, *problems}):
        documented[code] = {
            "description": PROBLEM_DESCRIPTIONS[code],
            "content": {"application/problem+json": {"model": Problem}},
        }
    return documented
