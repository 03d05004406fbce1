"""Time entries on monthly tasks, and the billing arithmetic (exact Decimal)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from helpdesk.domain.calendar import ensure_utc, month_key, paris_date
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput, TicketClosed
from helpdesk.domain.model import Caller, Role, Status, Ticket

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
    """Minutes a consultant logged on a ticket for one day."""

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


def check_time_allowed(ticket: Ticket, caller: Caller) -> None:
    """Staff log time; on a closed ticket only a manager adds, changes or deletes it."""
    if not caller.is_staff:
        raise Forbidden("Only consultants and managers log time.")
    if ticket.status is Status.CLOSED and caller.role is not Role.MANAGER:
        raise TicketClosed(
            f"Ticket #{ticket.number} is closed: only a manager adds, changes or deletes "
            "its time."
        )


def check_minutes(minutes: int) -> None:
    if not 0 < minutes <= MAX_MINUTES_PER_DAY:
        raise InvalidInput("minutes", f"'minutes' must be between 1 and {MAX_MINUTES_PER_DAY}.")


def check_entry_day(ticket: Ticket, day: date, now: datetime) -> None:
    """An entry's day lies between the ticket's creation day and today (Paris), and not
    after the day a closed ticket was closed."""
    today = paris_date(now)
    created = paris_date(ticket.created_at)
    if day > today:
        raise InvalidInput(
            "date", f"Time cannot be logged on a future day (today is {today.isoformat()})."
        )
    if day < created:
        raise InvalidInput(
            "date",
            f"'date' may not be before the ticket's creation day ({created.isoformat()}).",
        )
    if ticket.status is Status.CLOSED and ticket.closed_at and day > paris_date(ticket.closed_at):
        raise InvalidInput("date", "The ticket was closed before that day.")


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
    check_time_allowed(ticket, caller)
    if ticket.taken_at is None:
        raise ActionNotAllowed(
            "Time is logged on a ticket once it has been taken in charge.", []
        )
    check_minutes(minutes)
    entry_day = day or paris_date(now)
    check_entry_day(ticket, entry_day, now)
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


def check_entry_owner(entry: TimeEntry, caller: Caller) -> None:
    """An entry is changed or deleted by its author or a manager."""
    if caller.role is not Role.MANAGER and caller.id != entry.consultant:
        raise Forbidden("Only the entry's author or a manager changes or deletes it.")


def edited_time_entry(
    ticket: Ticket,
    caller: Caller,
    entry: TimeEntry,
    *,
    now: datetime,
    minutes: int | None = None,
    day: date | None = None,
    kind: TimeKind | None = None,
    comment: str | None = None,
) -> TimeEntry:
    """The entry with the given fields changed (None: unchanged), checked as a new one.

    The author stays the author (a manager's correction keeps the consultant's day totals
    right); whether the months involved are locked is the store's check, at commit."""
    check_time_allowed(ticket, caller)
    check_entry_owner(entry, caller)
    if minutes is not None:
        check_minutes(minutes)
    if day is not None and day != entry.day:
        check_entry_day(ticket, day, now)
    return replace(
        entry,
        minutes=entry.minutes if minutes is None else minutes,
        day=entry.day if day is None else day,
        kind=entry.kind if kind is None else kind,
        comment=entry.comment if comment is None else comment.strip(),
    )


def check_entry_removable(ticket: Ticket, caller: Caller, entry: TimeEntry) -> None:
    check_time_allowed(ticket, caller)
    check_entry_owner(entry, caller)


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
