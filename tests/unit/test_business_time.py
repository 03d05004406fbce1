"""Business time (DESIGN.md §10): worked examples typed by hand, and properties checked
against a brute-force minute-by-minute oracle written here, independently of the code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.domain.business_time import (
    BusinessCalendar,
    HolidayCalendar,
    add_business_minutes,
    business_minutes_between,
)

PARIS = ZoneInfo("Europe/Paris")
FR = BusinessCalendar()  # Monday-Friday, 09:00-18:00, metropolitan holidays
ALSACE = BusinessCalendar(holidays=HolidayCalendar.FR_ALSACE_MOSELLE)
ROUND_THE_CLOCK = BusinessCalendar(days=frozenset(range(1, 8)), opens=0, closes=1440)


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ------------------------------------------------------------ worked examples


def test_normal_take_created_friday_evening_before_a_monday_holiday() -> None:
    # Friday 22 May 2026 17:30; Monday 25 May is Pentecost Monday. 30 minutes on Friday,
    # 210 on Tuesday from 09:00: due Tuesday 26 May 12:30 (10:30 UTC, summer time).
    due = add_business_minutes(paris(2026, 5, 22, 17, 30), 240, FR)
    assert due == utc(2026, 5, 26, 10, 30)
    assert due.tzinfo is UTC
    assert business_minutes_between(paris(2026, 5, 22, 17, 30), due, FR) == 240


def test_alsace_moselle_good_friday() -> None:
    # Thursday 2 April 2026 16:00: two hours that day. Good Friday (3 April) is a holiday in
    # Alsace-Moselle only; Easter Monday (6 April) everywhere.
    start = paris(2026, 4, 2, 16)
    assert add_business_minutes(start, 240, ALSACE) == paris(2026, 4, 7, 11)
    assert add_business_minutes(start, 240, FR) == paris(2026, 4, 3, 11)
    assert business_minutes_between(start, paris(2026, 4, 7, 11), ALSACE) == 240
    assert (
        business_minutes_between(start, paris(2026, 4, 7, 11), FR) == 120 + 540 + 120
    )  # Thursday, Good Friday, Tuesday


def test_alsace_moselle_saint_stephen() -> None:
    # Thursday 24 December 2026 17:00; 25 (Christmas) and 26 (Saint-Étienne, a Saturday this
    # year) are holidays; in 2027 the 26th is a Sunday. Monday 28 December 2026: 60 + 60.
    assert add_business_minutes(paris(2026, 12, 24, 17), 120, ALSACE) == paris(2026, 12, 28, 10)
    # 2025: the 26th is a Friday, a working day in metropolitan France only.
    assert add_business_minutes(paris(2025, 12, 24, 17), 120, FR) == paris(2025, 12, 26, 10)
    assert add_business_minutes(paris(2025, 12, 24, 17), 120, ALSACE) == paris(2025, 12, 29, 10)


def test_spring_dst_night() -> None:
    # Friday 27 March 2026 16:00 CET (15:00 UTC): 120 minutes to 18:00 CET (17:00 UTC). The
    # clocks go forward on Sunday 29 March; Monday 30 March 09:00 is CEST (07:00 UTC), and the
    # other 120 minutes end at 11:00 CEST, 09:00 UTC.
    start = utc(2026, 3, 27, 15)
    assert add_business_minutes(start, 240, FR) == utc(2026, 3, 30, 9)
    assert business_minutes_between(start, utc(2026, 3, 30, 9), FR) == 240


def test_autumn_dst_night() -> None:
    # Friday 23 October 2026 17:00 CEST (15:00 UTC); the clocks go back on Sunday 25 October;
    # Monday 26 October 09:00 is CET (08:00 UTC): due 10:00 CET, 09:00 UTC.
    start = utc(2026, 10, 23, 15)
    assert add_business_minutes(start, 120, FR) == utc(2026, 10, 26, 9)
    assert business_minutes_between(start, utc(2026, 10, 26, 9), FR) == 120


def test_round_the_clock_counts_the_real_minutes_of_a_dst_day() -> None:
    # The day the clocks go forward lasts 23 hours, the day they go back 25.
    assert business_minutes_between(paris(2026, 3, 29), paris(2026, 3, 30), ROUND_THE_CLOCK) == 1380
    assert (
        business_minutes_between(paris(2026, 10, 25), paris(2026, 10, 26), ROUND_THE_CLOCK) == 1500
    )
    # Saturday 28 March 23:00 CET (22:00 UTC) + 240 real minutes: 02:00 UTC, 04:00 CEST.
    assert add_business_minutes(paris(2026, 3, 28, 23), 240, ROUND_THE_CLOCK) == utc(2026, 3, 29, 2)


def test_hours_inside_the_skipped_and_the_repeated_night_hour() -> None:
    # Every day 02:30-03:30: on 29 March 2026 02:30-03:00 never shows on the clock (30
    # minutes left); on 25 October 2026 02:30-03:00 shows twice (90 minutes).
    night = BusinessCalendar(days=frozenset(range(1, 8)), opens=150, closes=210)
    assert business_minutes_between(paris(2026, 3, 29), paris(2026, 3, 30), night) == 30
    assert business_minutes_between(paris(2026, 3, 28), paris(2026, 3, 29), night) == 60
    assert business_minutes_between(paris(2026, 10, 25), paris(2026, 10, 26), night) == 90
    # The 90 minutes of 25 October: 00:30-01:00 UTC (02:30-03:00 CEST), then 01:30-02:30 UTC
    # (02:30-03:30 CET).
    assert add_business_minutes(utc(2026, 10, 24, 23), 30, night) == utc(2026, 10, 25, 1)
    assert add_business_minutes(utc(2026, 10, 24, 23), 31, night) == utc(2026, 10, 25, 1, 31)


def test_new_years_eve_start() -> None:
    # Thursday 31 December 2026 17:00 + 1080 (a normal answer): 60 minutes; 1 January 2027 (a
    # Friday) is a holiday, then the weekend; Monday 4 January 540, Tuesday 5 January 480:
    # 17:00 (16:00 UTC).
    start = paris(2026, 12, 31, 17)
    assert add_business_minutes(start, 1080, FR) == utc(2027, 1, 5, 16)
    assert business_minutes_between(start, utc(2027, 1, 5, 16), FR) == 1080


def test_start_outside_hours_counts_from_the_next_opening() -> None:
    assert add_business_minutes(paris(2026, 11, 28, 14), 60, FR) == paris(2026, 11, 30, 10)  # Sat
    assert add_business_minutes(paris(2026, 11, 30, 7), 60, FR) == paris(2026, 11, 30, 10)
    assert add_business_minutes(paris(2026, 11, 30, 19), 60, FR) == paris(2026, 12, 1, 10)
    assert add_business_minutes(paris(2026, 11, 29, 23, 59), 1, FR) == paris(2026, 11, 30, 9, 1)
    # Month end: Friday 30 October 2026 17:00, Sunday 1 November (Toussaint): Monday 2nd.
    assert add_business_minutes(paris(2026, 10, 30, 17), 120, FR) == paris(2026, 11, 2, 10)


def test_a_target_met_at_closing_time_is_due_at_closing_time() -> None:
    assert add_business_minutes(paris(2026, 11, 30, 17), 60, FR) == paris(2026, 11, 30, 18)
    assert add_business_minutes(paris(2026, 11, 30, 17), 61, FR) == paris(2026, 12, 1, 9, 1)


def test_zero_minutes_is_the_start_itself() -> None:
    saturday = paris(2026, 11, 28, 14)
    assert add_business_minutes(saturday, 0, FR) == saturday
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(saturday, -1, FR)


def test_between_is_signed_and_counts_whole_minutes() -> None:
    a, b = paris(2026, 5, 22, 17, 30), paris(2026, 5, 26, 12, 30)
    assert business_minutes_between(b, a, FR) == -240
    assert business_minutes_between(a, a, FR) == 0
    assert (
        business_minutes_between(paris(2026, 11, 30, 10, 0, 30), paris(2026, 11, 30, 10, 1, 29), FR)
        == 0
    )
    assert (
        business_minutes_between(paris(2026, 11, 30, 10, 0, 30), paris(2026, 11, 30, 10, 1, 30), FR)
        == 1
    )
    assert (
        business_minutes_between(paris(2026, 11, 30, 10, 1, 30), paris(2026, 11, 30, 10, 0, 30), FR)
        == -1
    )
    # Seconds carry through: created at 17:30:27, due at 12:30:27.
    assert add_business_minutes(paris(2026, 5, 22, 17, 30, 27), 240, FR) == paris(
        2026, 5, 26, 12, 30, 27
    )


def test_a_weekend_only_contract() -> None:
    weekend = BusinessCalendar(days=frozenset({6, 7}), opens=600, closes=720)
    # Friday 27 November 2026 → Saturday 28th 10:00 + 120 → 12:00, then Sunday 29th.
    assert add_business_minutes(paris(2026, 11, 27, 12), 150, weekend) == paris(
        2026, 11, 29, 10, 30
    )


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_minutes(datetime(2026, 1, 5, 10), 10, FR)


def test_long_targets_across_holiday_periods() -> None:
    # A low ticket's answer (2700 minutes, five business days) from Christmas Eve in
    # Alsace-Moselle: 24th (60 from 17:00), 28-31 December, 1 January 2027 a holiday, 4th.
    due = add_business_minutes(paris(2026, 12, 24, 17), 2700, ALSACE)
    assert due == paris(2027, 1, 4, 17)  # 60 + 4 × 540 + 480
    # The longest target a contract allows, and a year of counting.
    add_business_minutes(paris(2026, 1, 1), 366 * 24 * 60, FR)
    assert business_minutes_between(paris(2026, 1, 1), paris(2027, 1, 1), FR) == 252 * 540


# ------------------------------------------------------------ the oracle

# Typed by hand (service-public.fr's lists): the oracle does not ask the holidays library.
FR_HOLIDAYS = {
    date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14),
    date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15), date(2026, 11, 1),
    date(2026, 11, 11), date(2026, 12, 25),
    date(2027, 1, 1), date(2027, 3, 29), date(2027, 5, 1), date(2027, 5, 6), date(2027, 5, 8),
    date(2027, 5, 17), date(2027, 7, 14), date(2027, 8, 15), date(2027, 11, 1),
    date(2027, 11, 11), date(2027, 12, 25),
}  # fmt: skip
ALSACE_EXTRA = {date(2026, 4, 3), date(2026, 12, 26), date(2027, 3, 26), date(2027, 12, 26)}
ORACLE_HOLIDAYS = {
    HolidayCalendar.FR: FR_HOLIDAYS,
    HolidayCalendar.FR_ALSACE_MOSELLE: FR_HOLIDAYS | ALSACE_EXTRA,
}


def oracle_is_business_minute(moment: datetime, calendar: BusinessCalendar) -> bool:
    """The minute starting at `moment` (UTC) is business time: read the Paris wall clock."""
    local = moment.astimezone(PARIS)
    return (
        local.isoweekday() in calendar.days
        and local.date() not in ORACLE_HOLIDAYS[calendar.holidays]
        and calendar.opens <= local.hour * 60 + local.minute < calendar.closes
    )


def oracle_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> int:
    count, moment = 0, a
    while moment < b:
        count += oracle_is_business_minute(moment, calendar)
        moment += timedelta(minutes=1)
    return count


def oracle_add(a: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The end of the `minutes`-th business minute from `a`."""
    moment = a
    while True:
        if oracle_is_business_minute(moment, calendar):
            minutes -= 1
            if minutes == 0:
                return moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Calendars of at least two days a week and two hours a day (keeps the oracle short);
    hours may begin or end in the night, across the DST hours."""
    days = draw(st.sets(st.integers(1, 7), min_size=2))
    opens = draw(st.sampled_from([0, 90, 120, 150, 180, 480, 540, 600, 1200]))
    closes = draw(st.integers(opens + 120, 1440))
    holidays = draw(st.sampled_from(list(HolidayCalendar)))
    return BusinessCalendar(frozenset(days), opens, closes, holidays)


# Whole-minute instants of 2026 and most of 2027 (the oracle's holidays), with the DST nights,
# year and month ends drawn often.
_FIRST = datetime(2026, 1, 1, tzinfo=UTC)
_SPAN = int((datetime(2027, 10, 1, tzinfo=UTC) - _FIRST).total_seconds() // 60)
_HOT = [
    datetime(2026, 3, 28, 20, tzinfo=UTC),
    datetime(2026, 10, 24, 20, tzinfo=UTC),
    datetime(2026, 12, 31, 12, tzinfo=UTC),
    datetime(2026, 5, 22, 14, tzinfo=UTC),
    datetime(2027, 3, 27, 20, tzinfo=UTC),
    datetime(2026, 4, 30, 15, tzinfo=UTC),
]
instants = st.one_of(
    st.integers(0, _SPAN).map(lambda m: _FIRST + timedelta(minutes=m)),
    st.builds(
        lambda base, m: base + timedelta(minutes=m), st.sampled_from(_HOT), st.integers(0, 3000)
    ),
)
ORACLE = settings(max_examples=60, deadline=None)


@ORACLE
@given(calendars(), instants, st.integers(1, 700))
def test_add_matches_the_oracle(calendar: BusinessCalendar, start: datetime, minutes: int) -> None:
    assert add_business_minutes(start, minutes, calendar) == oracle_add(start, minutes, calendar)


@ORACLE
@given(calendars(), instants, st.integers(0, 8 * 24 * 60))
def test_between_matches_the_oracle(calendar: BusinessCalendar, a: datetime, span: int) -> None:
    b = a + timedelta(minutes=span)
    assert business_minutes_between(a, b, calendar) == oracle_between(a, b, calendar)
    assert business_minutes_between(b, a, calendar) == -oracle_between(a, b, calendar)


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, st.integers(1, 5000))
def test_between_undoes_add_and_the_result_lands_on_business_time(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(start, minutes, calendar)
    assert business_minutes_between(start, due, calendar) == minutes
    # Landing rule: the minute just before the due time is a business minute (the due time is
    # inside the hours or at their end), never an evening or a weekend after it.
    assert oracle_is_business_minute(due - timedelta(minutes=1), calendar)


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, st.integers(1, 3000), st.integers(1, 3000))
def test_add_is_monotonic_and_additive(
    calendar: BusinessCalendar, start: datetime, m1: int, m2: int
) -> None:
    first = add_business_minutes(start, m1, calendar)
    both = add_business_minutes(start, m1 + m2, calendar)
    assert first < both
    assert add_business_minutes(first, m2, calendar) == both


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, st.integers(0, 20000), st.integers(0, 20000))
def test_between_is_additive_and_monotonic(
    calendar: BusinessCalendar, a: datetime, s1: int, s2: int
) -> None:
    b = a + timedelta(minutes=s1)
    c = b + timedelta(minutes=s2)
    ab, bc, ac = (
        business_minutes_between(a, b, calendar),
        business_minutes_between(b, c, calendar),
        business_minutes_between(a, c, calendar),
    )
    assert ab >= 0 and bc >= 0
    assert ab + bc == ac
