"""Business time (DESIGN.md §10): minutes that count only inside a contract's business hours.

A business minute is a real elapsed minute during which the wall clock in Paris shows a
business day (an ISO weekday of `days` that is not a public holiday of the calendar) and a
time of day in [`start`, `end`). Hours are wall-clock times: 09:00-18:00 is nine business hours
on every business day, winter or summer. On the two DST nights (last Sunday of March and of
October, at 01:00 UTC) the wall clock skips 02:00-03:00 or shows it twice; the definition holds
as it is: a skipped wall time is no business time, and a wall time shown twice counts twice
when it lies in the hours (which only a contract whose hours cover the night can notice).

The arithmetic walks day by day: each Paris day contributes its business intervals in UTC
(one, or up to two on a DST day), computed once and cached. Adding 2,700 minutes across a
fortnight of holidays is a few dozen steps, never a minute-by-minute walk.

Instants carry seconds: a ticket created at 17:30:27 is due at hh:mm:27. Minutes are counted
exactly (business seconds / 60, rounded toward zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from helpdesk.domain.calendar import PARIS, ensure_utc

MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
# A walk never needs more: seven consecutive business days always hold a working day, and no
# target is longer than a few years. A calendar without any business time fails loudly.
_MAX_DAYS = 366 * 20


class HolidayCalendar(StrEnum):
    """Public holidays that are never business time: metropolitan France, or France plus the
    two local holidays of Alsace-Moselle (Good Friday and 26 December)."""

    FR = "FR"
    FR_ALSACE_MOSELLE = "FR-ALSACE-MOSELLE"


# Fixed-date public holidays of metropolitan France (Code du travail, L3133-1): 1 January,
# 1 May, 8 May, 14 July, 15 August, 1 November, 11 November, 25 December.
_FIXED_FR = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
# Easter Monday, Ascension Thursday and Whit Monday, in days after Easter Sunday.
_EASTER_OFFSETS_FR = (1, 39, 50)
# Alsace-Moselle adds Good Friday (Easter - 2) and Saint Stephen's day, 26 December (L3134-13).
_EASTER_OFFSETS_ALSACE_MOSELLE = (-2,)
_FIXED_ALSACE_MOSELLE = ((12, 26),)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_shift) // 433
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def public_holidays(calendar: HolidayCalendar, year: int) -> frozenset[date]:
    """The public holidays of `calendar` in `year` (cached per calendar and year).

    Computed, not looked up: eight fixed dates and three (or, in Alsace-Moselle, four) that
    follow Easter. tests/unit/test_business_time_holidays.py checks them day for day against
    the holidays library for 2008-2100; the library itself is not shipped, as importing it
    loads every country it knows (about 0.25 s of a cold start, 8.7 MB of the layer)."""
    fixed = list(_FIXED_FR)
    offsets = list(_EASTER_OFFSETS_FR)
    if calendar is HolidayCalendar.FR_ALSACE_MOSELLE:
        fixed += _FIXED_ALSACE_MOSELLE
        offsets += _EASTER_OFFSETS_ALSACE_MOSELLE
    easter = easter_sunday(year)
    return frozenset(
        [date(year, month, day) for month, day in fixed]
        + [easter + timedelta(days=offset) for offset in offsets]
    )


@dataclass(frozen=True)
class BusinessCalendar:
    """When business minutes run: ISO weekdays (1 = Monday), wall-clock hours in Paris as
    minutes since midnight (`opens` < `closes` <= 1440, 1440 being the end of the day), and
    the public holidays left out."""

    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    opens: int = 9 * 60
    closes: int = 18 * 60
    holidays: HolidayCalendar = HolidayCalendar.FR

    def is_business_day(self, day: date) -> bool:
        return day.isoweekday() in self.days and day not in public_holidays(self.holidays, day.year)


@lru_cache(maxsize=4096)
def business_intervals(
    calendar: BusinessCalendar, day: date
) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC intervals [from, to) of `day` (a Paris calendar day) that are business time.

    On an ordinary day the UTC offset is the same all day long and there is one interval. On a
    DST day the day splits at the change into two stretches, each with its own offset; each
    stretch shows a range of wall-clock times, intersected with the business hours."""
    if not calendar.is_business_day(day):
        return ()
    midnight = datetime.combine(day, time(0), tzinfo=UTC)  # the wall clock, read as UTC
    first = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)
    last = datetime.combine(day + _DAY, time(0), tzinfo=PARIS).astimezone(UTC)
    # Stretches of constant offset: [from, to) in UTC, and that offset. Changes in Paris fall
    # on a whole UTC hour; only a DST day has more than one stretch.
    stretches: list[tuple[datetime, datetime, timedelta]] = []
    begin, offset = first, _offset(first)
    moment = first + _HOUR
    while moment < last:
        if _offset(moment) != offset:
            stretches.append((begin, moment, offset))
            begin, offset = moment, _offset(moment)
        moment += _HOUR
    stretches.append((begin, last, offset))
    opens, closes = calendar.opens * MINUTE, calendar.closes * MINUTE
    intervals: list[tuple[datetime, datetime]] = []
    for begin, stop, offset in stretches:
        # The wall times this stretch shows, as UTC instants of "the wall clock read as UTC".
        wall_from, wall_to = begin + offset, stop + offset
        lower = max(wall_from, midnight + opens)
        upper = min(wall_to, midnight + closes)
        if lower >= upper:
            continue
        if intervals and intervals[-1][1] == lower - offset:  # hours across the change
            intervals[-1] = (intervals[-1][0], upper - offset)
        else:
            intervals.append((lower - offset, upper - offset))
    return tuple(intervals)


def _offset(moment: datetime) -> timedelta:
    offset = moment.astimezone(PARIS).utcoffset()
    assert offset is not None  # a ZoneInfo always answers
    return offset


def _paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def add_business_minutes(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The instant at which `minutes` business minutes have run from `start` (UTC).

    Zero minutes is `start` itself, wherever it lies. Otherwise the result always lies in
    business time or at the end of a business interval: a target met exactly at closing
    time is due at 18:00 that day, not at 09:00 the next business day (the same minute count).
    A start outside business hours begins counting at the next opening."""
    if minutes < 0:
        raise ValueError("business minutes to add must not be negative")
    return add_business_time(start, minutes * MINUTE, calendar)


def add_business_time(start: datetime, amount: timedelta, calendar: BusinessCalendar) -> datetime:
    """add_business_minutes for an exact amount of business time (seconds included)."""
    if amount < timedelta(0):
        raise ValueError("business time to add must not be negative")
    moment = ensure_utc(start)
    if not amount:
        return moment
    left = amount
    day = _paris_day(moment)
    for _ in range(_MAX_DAYS):
        for begin, end in business_intervals(calendar, day):
            if end <= moment:
                continue
            begin = max(begin, moment)
            if left <= end - begin:
                return begin + left
            left -= end - begin
        day += _DAY
    raise ValueError("this calendar has no business time in the years ahead")


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """The business time in [a, b); negative when b is before a."""
    a, b = ensure_utc(a), ensure_utc(b)
    if b < a:
        return -business_time_between(b, a, calendar)
    total = timedelta(0)
    day, last = _paris_day(a), _paris_day(b)
    while day <= last:
        for begin, end in business_intervals(calendar, day):
            lower, upper = max(begin, a), min(end, b)
            if lower < upper:
                total += upper - lower
        day += _DAY
    return total


def business_minutes_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> int:
    """Whole business minutes in [a, b), rounded toward zero; signed: b before a gives the
    opposite of the count from b to a, so that a late clock reads negative minutes."""
    elapsed = business_time_between(a, b, calendar)
    whole = abs(elapsed) // MINUTE
    return whole if elapsed >= timedelta(0) else -whole
