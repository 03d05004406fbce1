"""Time entries on monthly tasks, and the billing arithmetic (exact Decimal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from helpdesk.domain.model import Caller, ClosureReason, Status, Ticket
from helpdesk.domain.timekeeping import (
    TimeEntry,
    TimeKind,
    amount_for,
    check_day_total,
    hours,
    new_time_entry,
)
from tests.unit.builders import (
    CLIENT,
    FINANCE,
    L1,
    L2,
    MANAGER,
    NOW,
    SYSTEM,
    base_ticket,
)


def taken_ticket(ticket_type: str = "assistance") -> Ticket:
    return base_ticket(
        ticket_type, status=Status.IN_PROGRESS, assignee=L1.id, taken_at=NOW - timedelta(days=3)
    )


def log(
    ticket: Ticket | None = None,
    caller: Caller = L1,
    *,
    minutes: int = 30,
    now: datetime = NOW,
    day: date | None = None,
    comment: str = "analyse",
) -> TimeEntry:
    return new_time_entry(
        ticket or taken_ticket(),
        caller,
        entry_id="e1",
        minutes=minutes,
        kind=TimeKind.ANALYSIS,
        comment=comment,
        now=now,
        day=day,
    )


# ------------------------------------------------------------------ new_time_entry


def test_a_valid_entry() -> None:
    entry = log(minutes=90, comment="  lecture des logs ")
    assert entry.minutes == 90
    assert entry.consultant == L1.id
    assert (entry.ticket_number, entry.org_id) == (88, "acme")
    assert entry.comment == "lecture des logs"
    assert entry.day == date(2026, 11, 27)
    assert entry.month == "2026-11"
    assert entry.billable
    assert entry.created_at == NOW


@pytest.mark.parametrize("minutes", [1, 60, 1440])
def test_minutes_in_range(minutes: int) -> None:
    assert log(minutes=minutes).minutes == minutes


@pytest.mark.parametrize("minutes", [0, -1, 1441, 10_000])
def test_minutes_out_of_range(minutes: int) -> None:
    with pytest.raises(InvalidInput) as error:
        log(minutes=minutes)
    assert error.value.field == "minutes"


def test_day_defaults_to_today_in_paris() -> None:
    late_evening_utc = datetime(2022, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Paris
    opened = late_evening_utc - timedelta(days=2)
    ticket = replace(taken_ticket(), created_at=opened, taken_at=opened)
    entry = log(ticket, now=late_evening_utc)
    assert entry.day == date(2022, 2, 1)
    assert entry.month == "2022-02"  # lands on the February task


def test_no_future_day_in_paris() -> None:
    late_evening_utc = datetime(2022, 1, 31, 23, 30, tzinfo=UTC)
    opened = late_evening_utc - timedelta(days=2)
    ticket = replace(taken_ticket(), created_at=opened, taken_at=opened)
    assert log(ticket, now=late_evening_utc, day=date(2022, 2, 1)).day == date(2022, 2, 1)
    with pytest.raises(InvalidInput) as error:
        log(ticket, now=late_evening_utc, day=date(2022, 2, 2))
    assert error.value.field == "date"


def test_a_past_day_is_accepted() -> None:
    opened = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    ticket = replace(taken_ticket(), created_at=opened, taken_at=opened)
    assert log(ticket, day=date(2026, 10, 31)).month == "2026-10"


@pytest.mark.parametrize("caller", [CLIENT, FINANCE, SYSTEM], ids=["client", "finance", "system"])
def test_only_staff_log_time(caller: Caller) -> None:
    with pytest.raises(Forbidden):
        log(caller=caller)


def test_manager_logs_time() -> None:
    assert log(caller=MANAGER).consultant == MANAGER.id


def test_ticket_must_have_been_taken() -> None:
    with pytest.raises(ActionNotAllowed):
        log(base_ticket("assistance"))


def test_time_logged_after_closure_day_is_refused() -> None:
    closed = replace(
        taken_ticket(),
        status=Status.CLOSED,
        closure_reason=ClosureReason.CONFIRMED,
        closed_at=NOW - timedelta(days=2),
    )
    # Only a manager logs time on a closed ticket (DESIGN.md §7).
    assert log(closed, MANAGER, day=date(2026, 11, 25)).day == date(2026, 11, 25)
    with pytest.raises(InvalidInput) as error:
        log(closed, MANAGER, day=date(2026, 11, 26))
    assert error.value.field == "date"


@pytest.mark.parametrize(
    ("ticket_type", "billable"), [("assistance", True), ("incident", True), ("evolution", False)]
)
def test_evolution_time_is_never_billable(ticket_type: str, billable: bool) -> None:
    assert log(taken_ticket(ticket_type), caller=L2).billable is billable


def test_created_at_is_stored_in_utc() -> None:
    from zoneinfo import ZoneInfo

    entry = log(now=NOW.astimezone(ZoneInfo("Europe/Paris")))
    assert entry.created_at == NOW and entry.created_at.utcoffset() == timedelta(0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        log(now=datetime(2026, 11, 27, 9, 0))


# ------------------------------------------------------------------ day total


@pytest.mark.parametrize(("already", "minutes"), [(0, 1440), (1000, 440), (1439, 1)])
def test_day_total_up_to_24_hours(already: int, minutes: int) -> None:
    check_day_total(already, minutes)


@pytest.mark.parametrize(("already", "minutes"), [(1, 1440), (1000, 441), (1440, 1)])
def test_day_total_over_24_hours(already: int, minutes: int) -> None:
    with pytest.raises(InvalidInput) as error:
        check_day_total(already, minutes)
    assert error.value.field == "minutes"


# ------------------------------------------------------------------ arithmetic


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, "0.00"),
        (1, "0.02"),
        (30, "0.50"),
        (60, "1.00"),
        (90, "1.50"),
        (100, "1.67"),
        (20, "0.33"),
        (1440, "24.00"),
    ],
)
def test_hours(minutes: int, expected: str) -> None:
    result = hours(minutes)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("minutes", "rate", "expected"),
    [
        (1, "90.00", "1.50"),
        (20, "100.00", "33.33"),
        (40, "100.00", "66.67"),
        (60, "90.00", "90.00"),
        (90, "90.00", "135.00"),
        (7, "85.50", "9.98"),  # 9.975 → half up
        (0, "90.00", "0.00"),
    ],
)
def test_amount_for(minutes: int, rate: str, expected: str) -> None:
    result = amount_for(minutes, Decimal(rate))
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_amount_without_rate_is_none() -> None:
    assert amount_for(120, None) is None


def test_amount_is_computed_from_exact_minutes_not_rounded_hours() -> None:
    # 1 minute is 0.02 h once rounded; 0.02 h × 90 would be 1.80, the exact amount is 1.50.
    assert amount_for(1, Decimal("90")) == Decimal("1.50")
    assert hours(1) * Decimal("90") != amount_for(1, Decimal("90"))


# ------------------------------------------------------------------ properties


@given(
    st.integers(min_value=0, max_value=100_000),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2),
)
def test_amount_is_exact(minutes: int, rate: Decimal) -> None:
    amount = amount_for(minutes, rate)
    assert amount is not None
    exact = Decimal(minutes) * rate / Decimal(60)
    assert abs(amount - exact) <= Decimal("0.005")
    assert amount == amount.quantize(Decimal("0.01"))


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_hours_are_close_to_exact(a: int, b: int) -> None:
    assert abs(hours(a) - Decimal(a) / 60) <= Decimal("0.005")
    assert abs(hours(a) + hours(b) - hours(a + b)) <= Decimal("0.01")
