"""Time entries and the monthly time tasks of a ticket (consultants and managers)."""

from __future__ import annotations

import os
from typing import Annotated

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.metrics import MetricUnit

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.listing import DEFAULT_LIMIT

from .deps import PageCursor, PageLimit, current_caller, get_service, ok
from .idempotency import once
from .schemas import responses
from .schemas_time import (
    TaskList,
    TimeEntryIn,
    TimeEntryList,
    TimeEntryOut,
    TimeEntryPatchIn,
    task_out,
    time_entry_out,
)
from .tickets import TicketNumber

router = Router()
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))


@router.post(
    "/tickets/<number>/time-entries",
    operation_id="logTime",
    status_code=201,
    summary="Log time (lands on the task of its date's month)",
    tags=["time"],
    description=(
        "`date`: a Paris day, from the ticket's creation day to today (422 otherwise); "
        "default today. On a closed ticket only a manager logs time (409 `ticket-closed`); "
        "a locked month is 409 `month-locked`. The same `Idempotency-Key` and body give the "
        "same entry, stored once; the same key with another body is 422."
    ),
    responses=responses(201, TimeEntryOut, 404, 409),
)
def log_time(
    number: TicketNumber,
    body: TimeEntryIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[TimeEntryOut]:
    caller = current_caller(router)

    def log() -> TimeEntryOut:
        entry = get_service().log_time(
            caller,
            number,
            minutes=body.minutes,
            kind=body.kind,
            comment=body.comment,
            day=body.date,
        )
        metrics.add_metric(name="MinutesLogged", unit=MetricUnit.Count, value=entry.minutes)
        return time_entry_out(entry)

    out = once(
        router,
        caller,
        idempotency_key,
        body.model_dump(mode="json"),
        work=log,
        remember=lambda logged: logged.model_dump(mode="json"),
        recall=TimeEntryOut.model_validate,
    )
    return ok(out, 201)


EntryId = Annotated[str, Path(min_length=1, max_length=128, description="the entry's id")]


@router.patch(
    "/tickets/<number>/time-entries/<entry_id>",
    summary="Change a time entry",
    description=(
        "Body: any of `minutes`, `date`, `kind`, `comment` (at least one). By the entry's "
        "author or a manager (others 403); its month and the new date's month must not be "
        "locked (409 `month-locked`); on a closed ticket only a manager (409 "
        "`ticket-closed`). The ticket's total, the month tasks and the author's days follow; "
        "the history records `time-entry-edited` (entry, old and new minutes and date). A body "
        "that changes nothing is 200 with the entry unchanged."
    ),
    operation_id="editTimeEntry",
    tags=["time"],
    responses=responses(200, TimeEntryOut, 404, 409),
)
def edit_time_entry(
    number: TicketNumber, entry_id: EntryId, body: TimeEntryPatchIn
) -> Response[TimeEntryOut]:
    caller = current_caller(router)
    if not body.model_fields_set - {k for k, v in body.model_dump().items() if v is None}:
        raise InvalidInput("body", "Give at least one of 'minutes', 'date', 'kind', 'comment'.")
    entry = get_service().edit_time_entry(
        caller,
        number,
        entry_id,
        minutes=body.minutes,
        day=body.date,
        kind=body.kind,
        comment=body.comment,
    )
    return ok(time_entry_out(entry))


@router.delete(
    "/tickets/<number>/time-entries/<entry_id>",
    status_code=204,
    summary="Delete a time entry",
    description=(
        "By the entry's author or a manager (others 403), while its month is not locked (409 "
        "`month-locked`); on a closed ticket only a manager (409 `ticket-closed`). The "
        "ticket's total, the month task and the author's day follow; the history records "
        "`time-entry-deleted` (entry, its minutes and date). 204, no body."
    ),
    operation_id="deleteTimeEntry",
    tags=["time"],
    responses={**responses(204, TimeEntryOut, 404, 409), 204: {"description": "Deleted"}},
)
def delete_time_entry(number: TicketNumber, entry_id: EntryId) -> Response[None]:
    caller = current_caller(router)
    get_service().delete_time_entry(caller, number, entry_id)
    return Response(status_code=204, body=None)


@router.get(
    "/tickets/<number>/time-entries",
    operation_id="listTimeEntries",
    summary="Time logged",
    tags=["time"],
    responses=responses(200, TimeEntryList, 404),
)
def list_time_entries(
    number: TicketNumber, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Response[TimeEntryList]:
    caller = current_caller(router)
    page = get_service().time_entries_page(caller, number, cursor, limit)
    items = [time_entry_out(e) for e in page.items]
    return ok(TimeEntryList(items=items, next_cursor=page.next_cursor))


@router.get(
    "/tickets/<number>/tasks",
    operation_id="listTasks",
    summary="Monthly time tasks",
    tags=["time"],
    responses=responses(200, TaskList, 404),
)
def list_tasks(number: TicketNumber) -> Response[TaskList]:
    caller = current_caller(router)
    return ok(TaskList(items=[task_out(t) for t in get_service().tasks(caller, number)]))
