"""Months, titles and the auto-close delay, in Europe/Paris time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.domain.calendar import (
    auto_close_due,
    ensure_utc,
    french_month_label,
    iso,
    month_bounds,
    month_key,
    paris_date,
    paris_month,
    parse_instant,
    parse_month,
    previous_month,
    task_title,
)
from helpdesk.domain.model import STATUS_LABELS, TYPE_LABELS, Status, TicketType

PARIS = ZoneInfo("Europe/Paris")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


# ------------------------------------------------------------------ titles


def test_the_customers_example_title() -> None:
    title = task_title(88, "Création de l'utilisateur Fabrice", "2022-01")
    assert title == "#88 - Création de l'utilisateur Fabrice - Janvier 2022"


@pytest.mark.parametrize(
    ("number", "name"),
    list(
        enumerate(
            [
                "Janvier",
                "Février",
                "Mars",
                "Avril",
                "Mai",
                "Juin",
                "Juillet",
                "Août",
                "Septembre",
                "Octobre",
                "Novembre",
                "Décembre",
            ],
            start=1,
        )
    ),
)
def test_french_month_names(number: int, name: str) -> None:
    assert french_month_label(f"2026-{number:02d}") == f"{name} 2026"
    assert task_title(7, "X", f"2026-{number:02d}") == f"#7 - X - {name} 2026"


def test_labels_are_the_customers() -> None:
    assert {s.value: label for s, label in STATUS_LABELS.items()} == {
        "open": "Ouvert",
        "taken": "Pris en charge",
        "in_progress": "En Cours",
        "on_hold": "Un instant",
        "awaiting_quote_approval": "En Attente Validation Chiffrage",
        "in_realisation": "En Cours de Réalisation",
        "answer_sent": "Réponse Envoyée",
        "closed": "Fermé",
    }
    assert Status.ON_HOLD.label == "Un instant"
    assert {t.value: label for t, label in TYPE_LABELS.items()} == {
        "assistance": "Support - Assistance Utilisateur",
        "incident": "Support - Incident Applicatif",
        "evolution": "Support - Evolution Applicatif",
    }


@pytest.mark.parametrize(
    ("ticket_type", "base", "ceiling", "on_time"),
    [("assistance", 1, 2, True), ("incident", 2, 3, True), ("evolution", 2, 3, False)],
)
def test_type_levels(ticket_type: str, base: int, ceiling: int, on_time: bool) -> None:
    kind = TicketType(ticket_type)
    assert (kind.base_level, kind.max_level, kind.billed_on_time) == (base, ceiling, on_time)
    assert kind.label == TYPE_LABELS[kind]


# ------------------------------------------------------------------ Paris months


@pytest.mark.parametrize(
    ("moment", "day", "month"),
    [
        (utc(2022, 1, 31, 23, 30), date(2022, 2, 1), "2022-02"),  # winter: UTC+1
        (utc(2022, 1, 31, 22, 59), date(2022, 1, 31), "2022-01"),
        (utc(2022, 1, 31, 23, 0), date(2022, 2, 1), "2022-02"),
        (utc(2026, 6, 30, 22, 0), date(2026, 7, 1), "2026-07"),  # summer: UTC+2
        (utc(2026, 6, 30, 21, 59), date(2026, 6, 30), "2026-06"),
        (utc(2026, 12, 31, 23, 0), date(2027, 1, 1), "2027-01"),
        (utc(2026, 11, 27, 23, 30), date(2026, 11, 28), "2026-11"),
    ],
)
def test_paris_day_and_month(moment: datetime, day: date, month: str) -> None:
    assert paris_date(moment) == day
    assert paris_month(moment) == month
    assert month_key(day) == month


def test_a_time_entry_at_the_end_of_january_utc_lands_on_february() -> None:
    moment = utc(2022, 1, 31, 23, 30)
    assert task_title(88, "Création de l'utilisateur Fabrice", paris_month(moment)) == (
        "#88 - Création de l'utilisateur Fabrice - Février 2022"
    )


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        ("2026-01", utc(2025, 12, 31, 23), utc(2026, 1, 31, 23)),
        ("2026-03", utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)),  # into summer time
        ("2026-04", utc(2026, 3, 31, 22), utc(2026, 4, 30, 22)),
        ("2026-10", utc(2026, 9, 30, 22), utc(2026, 10, 31, 23)),  # back to winter time
        ("2026-12", utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),  # December → January
        ("2024-02", utc(2024, 1, 31, 23), utc(2024, 2, 29, 23)),  # leap year
    ],
)
def test_month_bounds(month: str, start: datetime, end: datetime) -> None:
    assert month_bounds(month) == (start, end)
    first, after = month_bounds(month)
    assert paris_month(first) == month
    assert paris_month(after - timedelta(microseconds=1)) == month
    assert paris_month(after) != month


@given(st.integers(min_value=1971, max_value=2100), st.integers(min_value=1, max_value=12))
def test_month_bounds_chain(year: int, number: int) -> None:
    month = f"{year:04d}-{number:02d}"
    _, end = month_bounds(month)
    following = paris_month(end)
    assert previous_month(following) == month
    assert month_bounds(following)[0] == end


@pytest.mark.parametrize(
    ("month", "previous"), [("2026-01", "2025-12"), ("2026-03", "2026-02"), ("2026-12", "2026-11")]
)
def test_previous_month(month: str, previous: str) -> None:
    assert previous_month(month) == previous


@pytest.mark.parametrize(
    "text",
    [
        "2026-1",
        "2026-13",
        "2026-00",
        "26-01",
        "2026/01",
        "abcd-ef",
        "",
        "2026- 1",
        "2026-+1",
        "2026-1 ",
        "٢٠٢٦-٠١",
        "1969-12",
    ],
)
def test_parse_month_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        parse_month(text)


def test_parse_month() -> None:
    assert parse_month("2022-01") == (2022, 1)


# ------------------------------------------------------------------ auto-close delay


@pytest.mark.parametrize("days", [1, 7, 30])
@pytest.mark.parametrize(
    "answered",
    [
        paris(2026, 3, 28, 10, 0),  # the day before the last Sunday of March (29th)
        paris(2026, 3, 29, 10, 0),
        paris(2026, 3, 20, 16, 45),
        paris(2026, 10, 24, 10, 0),  # the day before the last Sunday of October (25th)
        paris(2026, 10, 25, 10, 0),
        paris(2026, 10, 20, 8, 15),
        paris(2026, 11, 27, 10, 0),
    ],
    ids=lambda d: d.strftime("%m-%d@%H:%M"),
)
def test_auto_close_due_keeps_the_paris_wall_clock(answered: datetime, days: int) -> None:
    due = auto_close_due(answered.astimezone(UTC), days)
    assert due.utcoffset() == timedelta(0)
    local = due.astimezone(PARIS)
    assert local.date() == answered.date() + timedelta(days=days)
    assert (local.hour, local.minute) == (answered.hour, answered.minute)


@pytest.mark.parametrize(
    ("answered", "days", "elapsed"),
    [
        (paris(2026, 3, 28, 10, 0), 1, timedelta(hours=23)),  # spring forward
        (paris(2026, 3, 28, 10, 0), 7, timedelta(days=7, hours=-1)),
        (paris(2026, 10, 24, 10, 0), 1, timedelta(hours=25)),  # fall back
        (paris(2026, 10, 24, 10, 0), 30, timedelta(days=30, hours=1)),
        (paris(2026, 11, 2, 10, 0), 7, timedelta(days=7)),
    ],
)
def test_auto_close_due_elapsed_time_across_dst(
    answered: datetime, days: int, elapsed: timedelta
) -> None:
    assert auto_close_due(answered, days) - answered == elapsed


def test_auto_close_due_example() -> None:
    # Answered Saturday 28 March 2026 at 10:00 Paris (09:00Z): due Sunday at 10:00 CEST.
    assert auto_close_due(utc(2026, 3, 28, 9, 0), 1) == utc(2026, 3, 29, 8, 0)
    assert auto_close_due(utc(2026, 10, 24, 8, 0), 1) == utc(2026, 10, 25, 9, 0)


def test_auto_close_due_needs_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        auto_close_due(utc(2026, 1, 1), 0)


# ------------------------------------------------------------------ instants


@pytest.mark.parametrize(
    "call",
    [
        lambda d: ensure_utc(d),
        lambda d: paris_date(d),
        lambda d: paris_month(d),
        lambda d: auto_close_due(d, 7),
        lambda d: iso(d),
    ],
    ids=["ensure_utc", "paris_date", "paris_month", "auto_close_due", "iso"],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2026, 1, 1, 12, 0))  # type: ignore[operator]


def test_parse_instant_requires_an_offset() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_instant("2026-11-27T23:30:00")
    assert parse_instant("2026-11-27T23:30:00Z") == utc(2026, 11, 27, 23, 30)
    assert parse_instant("2026-11-28T00:30:00+01:00") == utc(2026, 11, 27, 23, 30)


def test_iso() -> None:
    assert iso(utc(2026, 11, 27, 23, 30, 0, 123456)) == "2026-11-27T23:30:00Z"
    assert iso(paris(2026, 11, 28, 0, 30)) == "2026-11-27T23:30:00Z"


def test_ensure_utc_converts() -> None:
    converted = ensure_utc(paris(2026, 7, 1, 12, 0))
    assert converted == utc(2026, 7, 1, 10, 0)
    assert converted.tzinfo is UTC
