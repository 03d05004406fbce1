"""Time entries and the monthly time tasks of a ticket (consultants and managers)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from .deps import current_caller, get_service, ok
from .schemas import (
    TaskList,
    TimeEntryIn,
    TimeEntryList,
    TimeEntryOut,
    responses,
    task_out,
    time_entry_out,
)
from .tickets import TicketNumber

router = Router()
metrics = Metrics()


@router.post(
    "/tickets/<number>/time-entries",
    status_code=201,
    summary="Log time (lands on the task of its date's month)",
    tags=["time"],
    responses=responses(201, TimeEntryOut, 404, 409),
)
def log_time(number: TicketNumber, body: TimeEntryIn) -> Response[TimeEntryOut]:
    caller = current_caller(router)
    entry = get_service().log_time(
        caller, number, minutes=body.minutes, kind=body.kind, comment=body.comment, day=body.date
    )
    metrics.add_metric(name="MinutesLogged", unit=MetricUnit.Count, value=entry.minutes)
    return ok(time_entry_out(entry), 201)


@router.get(
    "/tickets/<number>/time-entries",
    summary="Time logged",
    tags=["time"],
    responses=responses(200, TimeEntryList, 404),
)
def list_time_entries(number: TicketNumber) -> Response[TimeEntryList]:
    caller = current_caller(router)
    entries = get_service().time_entries(caller, number)
    return ok(TimeEntryList(items=[time_entry_out(e) for e in entries]))


@router.get(
    "/tickets/<number>/tasks",
    summary="Monthly time tasks",
    tags=["time"],
    responses=responses(200, TaskList, 404),
)
def list_tasks(number: TicketNumber) -> Response[TaskList]:
    caller = current_caller(router)
    return ok(TaskList(items=[task_out(t) for t in get_service().tasks(caller, number)]))
