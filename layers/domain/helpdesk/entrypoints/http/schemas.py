"""Request and response bodies (pydantic v2), and the functions shaping domain values."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from helpdesk.domain.calendar import iso
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Priority, Quote, Ticket, TicketType
from helpdesk.domain.text import check_text, check_title
from helpdesk.domain.ticket_sla import view_sla
from helpdesk.domain.tickets import MAX_DESCRIPTION, MAX_TITLE

# ---------------------------------------------------------------- requests

# Strict input (DESIGN.md §7): a JSON value is never coerced. Powertools validates the parsed
# body in pydantic's Python mode, so a request field uses these types: `true` is not an
# integer, `"30"` is not an integer, `1` is not a boolean, money is a string. (Enums stay lax:
# in Python mode a strict enum would refuse its own values, which arrive as strings.)
StrictInt = Annotated[int, Field(strict=True)]
StrictBool = Annotated[bool, Field(strict=True)]
StrictStr = Annotated[str, Field(strict=True)]

MONEY_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"
_MONEY = re.compile(MONEY_PATTERN)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_NUMBER_TEXT = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def _money(value: Any) -> Any:
    if isinstance(value, Decimal):  # built in Python (tests, the service's own calls)
        return value
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise PydanticCustomError(
            "money",
            'Money is a string of digits with at most two decimals, e.g. "1200.00".',
        )
    return Decimal(value)


def _quantity(value: Any) -> Any:
    """A decimal quantity (days): a JSON number, or a string of digits (`"3.5"`); never a
    boolean, an exponent (`"1e6"`), NaN or infinity."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e9:
        return Decimal(str(value))
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return Decimal(value)
    raise PydanticCustomError(
        "decimal_strict", 'Expected a number or a string of digits, e.g. 3 or "3.5".'
    )


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise PydanticCustomError("date_strict", "A date is a string YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_strict", "Not a calendar date (YYYY-MM-DD).") from None


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["1200.00"]}),
]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1_000_000_000},
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
            ]
        }
    ),
]


def _line(value: str) -> str:
    try:
        return check_title(value, "value")
    except InvalidInput as exc:
        raise PydanticCustomError("control_character", exc.detail.replace("'value' ", "")) from None


def _text(value: str) -> str:
    try:
        return check_text(value, "value")
    except InvalidInput as exc:
        raise PydanticCustomError("control_character", exc.detail.replace("'value' ", "")) from None


# Free text a person types (helpdesk.domain.text): a Line is one line (names: no control
# character, no bidi override), a Text keeps tabs and line breaks and no other control.
Line = Annotated[str, Field(strict=True), AfterValidator(_line)]
Text = Annotated[str, Field(strict=True), AfterValidator(_text)]
IsoDate = Annotated[
    dt.date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]


class Model(BaseModel):
    """Validators are built on first use, not at import: a cold start builds only its route's."""

    model_config = ConfigDict(defer_build=True)


class Body(Model):
    """Unknown fields are refused: nothing a client sent is silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class TicketIn(Body):
    title: StrictStr = Field(max_length=MAX_TITLE)
    description: StrictStr = Field(default="", max_length=MAX_DESCRIPTION)
    type: TicketType
    org_id: StrictStr | None = Field(default=None, description="required when not a client")


class TicketPatchIn(Body):
    """PATCH /tickets/{number}: at least one field; an absent (or null) field is unchanged."""

    title: StrictStr | None = Field(default=None, max_length=MAX_TITLE)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    priority: Priority | None = Field(default=None, description="staff only")


# --------------------------------------------------------------- responses


class QuoteOut(Model):
    version: int
    amount: str
    days: str | None
    description: str
    validity_days: int
    valid_until: str = Field(description="submitted_at + validity_days: expired then if undecided")
    outcome: str
    reason: str | None
    submitted_by: str
    submitted_at: str
    decided_by: str | None
    decided_at: str | None


class SlaClockOut(Model):
    target_minutes: int = Field(description="Business minutes promised, for the priority")
    due_at: str | None = Field(description="When the target is reached; null while paused or done")
    remaining_minutes: int = Field(description="Business minutes left; negative once late")
    state: Literal["running", "paused", "met", "missed"]
    done_at: str | None = Field(description="When the clock stopped (taken, answered)")


class TicketSlaOut(Model):
    """The ticket's two service-level clocks, in business time (DESIGN.md §10)."""

    take: SlaClockOut = Field(description="Taking in charge: from creation to `take`")
    answer: SlaClockOut = Field(
        description="Answering: from creation to `send-answer` (evolution: `submit-quote`)"
    )


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
    attachments_count: int = Field(
        description="available attachments this caller may see (a client: the public ones)"
    )
    allowed_actions: list[str]
    sla: TicketSlaOut | None = Field(
        description="Service levels (§10); null for a ticket created before they existed"
    )


class TicketList(Model):
    items: list[TicketOut]
    next_cursor: str | None


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
        valid_until=iso(quote.valid_until),
        outcome=quote.outcome.value,
        reason=quote.reason,
        submitted_by=quote.submitted_by,
        submitted_at=iso(quote.submitted_at),
        decided_by=quote.decided_by,
        decided_at=_opt_iso(quote.decided_at),
    )


def ticket_out(
    ticket: Ticket, allowed_actions: list[str], attachments_count: int, now: dt.datetime
) -> TicketOut:
    """The ticket as the API shows it; `now`: the instant its clocks are read at."""
    latest = ticket.quote
    sla = view_sla(ticket.sla, now)
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
        attachments_count=attachments_count,
        allowed_actions=allowed_actions,
        sla=TicketSlaOut.model_validate(sla) if sla is not None else None,
    )


# ------------------------------------------------------------------ OpenAPI

PROBLEM_DESCRIPTIONS = {
    400: "A header that is not what its grammar allows (field names it: If-Match)",
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


# ---------------------------------------------------------------- hour budgets (§10)
