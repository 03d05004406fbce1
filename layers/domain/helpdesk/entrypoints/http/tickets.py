"""POST /tickets (idempotent with `Idempotency-Key`), GET /tickets, GET /tickets/{number}."""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from helpdesk.domain.editing import TicketChanges
from helpdesk.domain.listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    NONE,
    Sort,
    TicketQuery,
    created_range,
    parse_statuses,
)
from helpdesk.domain.model import Caller, Priority, Ticket, TicketType, attachments_count
from helpdesk.domain.search import MAX_QUERY, parse_query

from .deps import current_caller, get_service, ok, ticket_response
from .idempotency import once
from .idempotency import reset_idempotency as reset_idempotency  # functions/api/app.py
from .schemas import TicketIn, TicketList, TicketOut, TicketPatchIn, responses, ticket_out

router = Router()
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

TicketNumber = Annotated[int, Path(gt=0, description="the ticket number (#88 → 88)")]


def _create(caller: Caller, body: dict[str, Any]) -> Ticket:
    ticket = get_service().create_ticket(
        caller,
        title=body["title"],
        description=body.get("description") or "",
        type=TicketType(body["type"]),
        org_id=body.get("org_id"),
    )
    metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=1)
    return ticket


@router.post(
    "/tickets",
    operation_id="createTicket",
    status_code=201,
    summary="Open a ticket",
    description="The same `Idempotency-Key` and body give the same ticket; the same key with "
    "another body is 422.",
    tags=["tickets"],
    responses=responses(201, TicketOut, 409),
)
def create_ticket(
    body: TicketIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[TicketOut]:
    caller = current_caller(router)
    payload = body.model_dump(mode="json")
    # A replay answers with the ticket as it is now; a first call has it in hand.
    ticket = once(
        router,
        caller,
        idempotency_key,
        payload,
        work=lambda: _create(caller, payload),
        remember=lambda created: {"number": created.number},
        recall=lambda stored: get_service().get_ticket(caller, int(stored["number"])),
    )
    return ticket_response(ticket, caller, 201, {"Location": f"/tickets/{ticket.number}"})


@router.get(
    "/tickets",
    operation_id="listTickets",
    summary="Find the tickets the caller sees",
    description=(
        "Every filter is optional; they combine with AND, inside the caller's scope (a client: "
        "their organisation). `status`: codes, comma-separated, or `active` (every status but "
        "closed). `assignee`: a consultant id, `me` or `none` (nobody holds it). `q`: `#88` or "
        "`88` finds that ticket; otherwise every word must start a word of the title (case and "
        "accents ignored). `created_from`/`created_to`: Paris dates, inclusive. `sort`: "
        "`updated` (default), `created`, `number` (newest first), `priority` (critical first, "
        "then oldest); a leading `-` reverses. An unknown parameter or a bad value is 422."
    ),
    tags=["tickets"],
    responses=responses(200, TicketList),
)
def list_tickets(
    status: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[TicketType | None, Query()] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    priority: Annotated[Priority | None, Query()] = None,
    requester: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    org_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    assignee: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY)] = None,
    created_from: Annotated[date | None, Query()] = None,
    created_to: Annotated[date | None, Query()] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[TicketList]:
    caller = current_caller(router)
    service = get_service()
    start, before = created_range(created_from, created_to)
    query = TicketQuery(
        statuses=parse_statuses(status) if status is not None else None,
        type=type,
        level=level,
        priority=priority,
        requester=requester,
        org_id=org_id,
        assignee=None if assignee == NONE else assignee,
        unassigned=assignee == NONE,
        search=parse_query(q) if q is not None else None,
        created_from=start,
        created_before=before,
        sort=Sort.parse(sort),
    )
    tickets, next_cursor = service.list_tickets(caller, query, cursor, limit)
    now = service.clock()
    items = [
        ticket_out(t, service.allowed(t, caller), attachments_count(t, caller), now)
        for t in tickets
    ]
    return ok(TicketList(items=items, next_cursor=next_cursor))


@router.get(
    "/tickets/<number>",
    operation_id="getTicket",
    summary="One ticket",
    tags=["tickets"],
    responses=responses(200, TicketOut, 404),
)
def get_ticket(number: TicketNumber) -> Response[TicketOut]:
    caller = current_caller(router)
    return ticket_response(get_service().get_ticket(caller, number), caller)


@router.patch(
    "/tickets/<number>",
    summary="Edit a ticket's title, description or priority",
    description=(
        "Body: any of `title`, `description`, `priority` (at least one; 422 otherwise). Staff "
        "edit every ticket that is not closed; the requester edits the title and description "
        "of their own ticket while it is `open` (priority by a client: 403; another client of "
        "the organisation: 403; the ticket no longer open: 409 `action-not-allowed`). A closed "
        "ticket: 409 `ticket-closed`. `If-Match` is honoured as on actions (412). The edit "
        "gives a new version (ETag) and one history event `edit` whose details hold each "
        "changed field's old and new value (`title.old`, `title.new`, ...). A new title "
        "renames the month tasks of the months not exported (an exported month keeps its "
        "title). A body that changes nothing is 200 with the ticket unchanged (same version, "
        "no history event)."
    ),
    operation_id="editTicket",
    tags=["tickets"],
    responses=responses(200, TicketOut, 400, 404, 409, 412),
)
def edit_ticket(
    number: TicketNumber,
    body: TicketPatchIn,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response[TicketOut]:
    from .actions import parse_if_match  # actions.py imports this module: read it at call

    caller = current_caller(router)
    expected = parse_if_match(if_match)
    changes = TicketChanges(title=body.title, description=body.description, priority=body.priority)
    ticket = get_service().edit_ticket(caller, number, changes, expected_version=expected)
    return ticket_response(ticket, caller)
