"""The computed French public holidays (helpdesk.domain.business_time) against the holidays
library, which is a test dependency only: day for day, for every year a contract can meet."""

from __future__ import annotations

from datetime import date

import pytest
from holidays.countries.france import France

from helpdesk.domain.business_time import HolidayCalendar, easter_sunday, public_holidays

# From 2008: in 2005-2007 Whit Monday was the "journée de solidarité", a working day; no
# contract of this system runs before 2008.
YEARS = range(2008, 2101)
LIBRARY_SUBDIVISIONS = {HolidayCalendar.FR: None, HolidayCalendar.FR_ALSACE_MOSELLE: "57"}


@pytest.mark.parametrize("calendar", list(HolidayCalendar))
def test_the_computed_holidays_are_the_librarys_every_year(calendar: HolidayCalendar) -> None:
    differing = {
        year: public_holidays(calendar, year)
        ^ frozenset(France(years=year, subdiv=LIBRARY_SUBDIVISIONS[calendar]).keys())
        for year in YEARS
    }
    assert {year: days for year, days in differing.items() if days} == {}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_alsace_moselle_adds_good_friday_and_saint_stephen() -> None:
    extra = public_holidays(HolidayCalendar.FR_ALSACE_MOSELLE, 2027) - public_holidays(
        HolidayCalendar.FR, 2027
    )
    assert extra == {date(2027, 3, 26), date(2027, 12, 26)}
