"""Time entries on monthly tasks, and the billing arithmetic (exact Decimal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from helpdesk.domain.calendar import ensure_utc, month_key, paris_date
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from helpdesk.domain.model import Caller, Status, Ticket

MAX_MINUTES_PER_DAY = 24 * 60
CENT = Decimal("0.01")
MINUTES_PER_HOUR = Decimal(60)


class TimeKind(StrEnum):
    ANALYSIS = "analysis"
    REALISATION = "realisation"


@dataclass(frozen=True)
class Task:
    """A ticket's time task of one month ("imputation"): its title and the minutes logged."""

    ticket_number: int
    month: str
    title: str
    minutes: int = 0


@dataclass(frozen=True)
class TimeEntry:
    id: str
    ticket_number: int
    org_id: str
    consultant: str
    day: date
    minutes: int
    kind: TimeKind
    comment: str
    billable: bool
    created_at: datetime

    @property
    def month(self) -> str:
        """The month whose task this entry lands on (the day is a Paris calendar day)."""
        return month_key(self.day)


def new_time_entry(
    ticket: Ticket,
    caller: Caller,
    *,
    entry_id: str,
    minutes: int,
    kind: TimeKind,
    comment: str,
    now: datetime,
    day: date | None = None,
) -> TimeEntry:
    """Validate a consultant's time entry on a ticket; `day` defaults to today in Paris."""
    if not caller.is_staff:
        raise Forbidden("Only consultants and managers log time.")
    if ticket.taken_at is None:
        raise ActionNotAllowed(
            "Time is logged on a ticket once it has been taken in charge.", []
        )
    if not 0 < minutes <= MAX_MINUTES_PER_DAY:
        raise InvalidInput("minutes", "'minutes' must be between 1 and 1440.")
    today = paris_date(now)
    entry_day = day or today
    if entry_day > today:
        raise InvalidInput("date", "Time cannot be logged on a future day.")
    if ticket.status is Status.CLOSED and ticket.closed_at and entry_day > paris_date(
        ticket.closed_at
    ):
        raise InvalidInput("date", "The ticket was closed before that day.")
    return TimeEntry(
        id=entry_id,
        ticket_number=ticket.number,
        org_id=ticket.org_id,
        consultant=caller.id,
        day=entry_day,
        minutes=minutes,
        kind=kind,
        comment=comment.strip(),
        billable=ticket.type.billed_on_time,
        created_at=ensure_utc(now),
    )


def check_day_total(already_logged: int, minutes: int) -> None:
    """A consultant never logs more than 24 hours on one day, all tickets together."""
    if already_logged + minutes > MAX_MINUTES_PER_DAY:
        raise InvalidInput(
            "minutes",
            f"This would make {already_logged + minutes} minutes on that day for this "
            f"consultant; a day holds at most {MAX_MINUTES_PER_DAY}.",
        )


def hours(minutes: int) -> Decimal:
    """Minutes as hours, two decimals, half-up (90 → 1.50, 1 → 0.02)."""
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_for(minutes: int, hourly_rate: Decimal | None) -> Decimal | None:
    """Minutes at an hourly rate, to the cent, computed from the exact minutes."""
    if hourly_rate is None:
        return None
    return (Decimal(minutes) * hourly_rate / MINUTES_PER_HOUR).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
