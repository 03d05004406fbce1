"""Time's request and response models: time entries and monthly tasks (time.py).

Apart from schemas.py so that a cold start builds only the models of the router it serves
(bench/results.md, Cold start)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from helpdesk.domain.calendar import iso
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind

from .schemas import (
    Body,
    IsoDate,
    Model,
    StrictInt,
    Text,
)


class TimeEntryIn(Body):
    minutes: Annotated[StrictInt, Field(gt=0, le=1440)]
    date: Annotated[IsoDate | None, Field(description="default: today in Europe/Paris")] = None
    kind: TimeKind = TimeKind.REALISATION
    comment: Text = Field(default="", max_length=2000)


class TimeEntryPatchIn(Body):
    """PATCH /tickets/{number}/time-entries/{id}: an absent (or null) field is unchanged."""

    minutes: Annotated[StrictInt | None, Field(gt=0, le=1440)] = None
    date: IsoDate | None = None
    kind: TimeKind | None = None
    comment: Text | None = Field(default=None, max_length=2000)


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
