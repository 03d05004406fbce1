"""DESIGN.md §7 "Editing" and "Time entries", decided by the pure domain: who may edit what,
the edited ticket and its history event; who may change or delete a time entry, and the days
an entry may be dated."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helpdesk.domain.editing import Edit, TicketChanges, decide_edit, time_event
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput, TicketClosed
from helpdesk.domain.model import Caller, ClosureReason, Priority, Status, Ticket
from helpdesk.domain.timekeeping import (
    TimeEntry,
    TimeKind,
    check_entry_removable,
    edited_time_entry,
    new_time_entry,
)
from tests.unit.builders import (
    CLIENT,
    FINANCE,
    L1,
    L1B,
    L2,
    MANAGER,
    NOW,
    ORG,
    OTHER_CLIENT,
    SYSTEM,
    base_ticket,
)

# base_ticket: #88, "Création de l'utilisateur Fabrice", requester CLIENT, version 3, created
# on 20 November 2026 (NOW - 7 days), NOW = 27 November 2026 09:00 UTC.
TITLE = "Création de l'utilisateur Fabrice"
COLLEAGUE = Caller(id="client-acme-2", role=CLIENT.role, org_id=ORG, email="b@acme.example")
STAFF = [L1, L2, MANAGER]
OPEN_STATUSES = [s for s in Status if s is not Status.CLOSED]


def in_status(status: Status) -> Ticket:
    changes: dict[str, object] = {"status": status}
    if status is not Status.OPEN:
        changes |= {"assignee": L1.id, "taken_at": NOW - timedelta(days=3)}
    if status is Status.CLOSED:
        changes |= {"closed_at": NOW, "closure_reason": ClosureReason.CONFIRMED}
    return base_ticket("assistance", **changes)


def edit(ticket: Ticket, caller: Caller, **changes: Any) -> Edit | None:
    return decide_edit(ticket, caller, TicketChanges(**changes), NOW)


# ------------------------------------------------------------------ who edits what


@pytest.mark.parametrize("caller", STAFF, ids=lambda c: c.id)
@pytest.mark.parametrize("status", OPEN_STATUSES, ids=lambda s: s.value)
def test_staff_edit_every_field_of_every_ticket_not_closed(caller: Caller, status: Status) -> None:
    done = edit(in_status(status), caller, title="VPN", description="d", priority=Priority.HIGH)
    assert done is not None
    assert (done.ticket.title, done.ticket.description, done.ticket.priority) == (
        "VPN",
        "d",
        Priority.HIGH,
    )
    assert done.ticket.status is status


@pytest.mark.parametrize("caller", [*STAFF, CLIENT], ids=lambda c: c.id)
def test_nobody_edits_a_closed_ticket(caller: Caller) -> None:
    with pytest.raises(TicketClosed):
        edit(in_status(Status.CLOSED), caller, title="VPN")


def test_the_requester_edits_title_and_description_while_open() -> None:
    done = edit(in_status(Status.OPEN), CLIENT, title="VPN", description="Merci")
    assert done is not None
    assert (done.ticket.title, done.ticket.description) == ("VPN", "Merci")


def test_a_client_never_sets_the_priority() -> None:
    with pytest.raises(Forbidden):
        edit(in_status(Status.OPEN), CLIENT, priority=Priority.CRITICAL)


@pytest.mark.parametrize("status", [s for s in OPEN_STATUSES if s is not Status.OPEN])
def test_the_requester_no_longer_edits_once_taken(status: Status) -> None:
    with pytest.raises(ActionNotAllowed):
        edit(in_status(status), CLIENT, title="VPN")


@pytest.mark.parametrize("caller", [COLLEAGUE, OTHER_CLIENT, FINANCE, SYSTEM], ids=lambda c: c.id)
def test_others_are_forbidden(caller: Caller) -> None:
    """Another client of the organisation, finance, the system: 403. (Another organisation's
    client is refused by the service with a 404 first; the domain alone says 403.)"""
    with pytest.raises(Forbidden):
        edit(in_status(Status.OPEN), caller, title="VPN")


# ------------------------------------------------------------------ the edit


def test_the_edit_bumps_the_version_and_records_old_and_new() -> None:
    ticket = in_status(Status.IN_PROGRESS)
    done = edit(ticket, L1, title="  Mot   de passe ", priority=Priority.HIGH)
    assert done is not None
    assert (done.ticket.version, done.ticket.updated_at) == (4, NOW)
    assert done.event.version == 4
    assert (done.event.action, done.event.actor) == ("edit", L1.id)
    assert done.event.from_status is done.event.to_status is Status.IN_PROGRESS
    assert done.event.details == {
        "title.old": TITLE,
        "title.new": "Mot de passe",
        "priority.old": "normal",
        "priority.new": "high",
    }
    assert done.retitled
    assert done.ticket.time_spent_minutes == ticket.time_spent_minutes


def test_an_edit_that_changes_nothing_is_no_edit() -> None:
    assert edit(in_status(Status.OPEN), CLIENT, title=f"  {TITLE} ") is None
    assert edit(in_status(Status.TAKEN), L1, priority=Priority.NORMAL) is None


def test_only_the_changed_fields_are_recorded() -> None:
    done = edit(in_status(Status.OPEN), CLIENT, title=TITLE, description="Nouveau")
    assert done is not None
    assert not done.retitled
    assert set(done.event.details) == {"description.old", "description.new"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "body"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\u202eb"}, "title"),
        ({"title": "a\tb"}, "title"),
        ({"description": "x" * 20001}, "description"),
        ({"description": "a\x00b"}, "description"),
    ],
    ids=["nothing", "blank", "201", "bidi", "tab", "long-description", "nul"],
)
def test_bad_values_name_their_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        edit(in_status(Status.OPEN), MANAGER, **changes)
    assert error.value.field == field


def test_a_200_character_title_and_a_multiline_description_are_fine() -> None:
    done = edit(in_status(Status.OPEN), MANAGER, title="x" * 200, description="a\n\tb")
    assert done is not None and len(done.ticket.title) == 200


def test_a_time_event_is_the_next_version() -> None:
    ticket = in_status(Status.IN_PROGRESS)
    bumped, event = time_event(ticket, MANAGER, "time-entry-deleted", {"entry": "e1"}, NOW)
    assert (bumped.version, event.version, event.action, event.actor) == (
        4,
        4,
        "time-entry-deleted",
        MANAGER.id,
    )


# ------------------------------------------------------------------ time entries


def entry(consultant: str = L1.id, day: date = date(2026, 11, 25)) -> TimeEntry:
    return TimeEntry(
        id="e1",
        ticket_number=88,
        org_id=ORG,
        consultant=consultant,
        day=day,
        minutes=30,
        kind=TimeKind.ANALYSIS,
        comment="analyse",
        billable=True,
        created_at=NOW,
    )


def test_the_author_and_a_manager_change_an_entry() -> None:
    ticket = in_status(Status.IN_PROGRESS)
    mine = edited_time_entry(ticket, L1, entry(), now=NOW, minutes=45, day=date(2026, 11, 21))
    assert (mine.minutes, mine.day, mine.consultant) == (45, date(2026, 11, 21), L1.id)
    managed = edited_time_entry(ticket, MANAGER, entry(), now=NOW, comment=" vu ")
    assert (managed.comment, managed.consultant, managed.minutes) == ("vu", L1.id, 30)
    check_entry_removable(ticket, L1, entry())
    check_entry_removable(ticket, MANAGER, entry())


@pytest.mark.parametrize("caller", [L1B, L2], ids=lambda c: c.id)
def test_another_consultant_neither_changes_nor_deletes(caller: Caller) -> None:
    ticket = in_status(Status.IN_PROGRESS)
    with pytest.raises(Forbidden):
        edited_time_entry(ticket, caller, entry(), now=NOW, minutes=45)
    with pytest.raises(Forbidden):
        check_entry_removable(ticket, caller, entry())


@pytest.mark.parametrize("caller", [CLIENT, FINANCE, SYSTEM], ids=lambda c: c.id)
def test_non_staff_never_touch_time(caller: Caller) -> None:
    ticket = in_status(Status.IN_PROGRESS)
    with pytest.raises(Forbidden):
        edited_time_entry(ticket, caller, entry(caller.id), now=NOW, minutes=45)
    with pytest.raises(Forbidden):
        check_entry_removable(ticket, caller, entry(caller.id))


def test_on_a_closed_ticket_only_a_manager_adds_changes_or_deletes() -> None:
    closed = in_status(Status.CLOSED)
    with pytest.raises(TicketClosed):
        edited_time_entry(closed, L1, entry(), now=NOW, minutes=45)
    with pytest.raises(TicketClosed):
        check_entry_removable(closed, L1, entry())
    with pytest.raises(TicketClosed):
        new_time_entry(
            closed, L1, entry_id="e2", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW
        )
    assert edited_time_entry(closed, MANAGER, entry(), now=NOW, minutes=45).minutes == 45
    check_entry_removable(closed, MANAGER, entry())
    added = new_time_entry(
        closed, MANAGER, entry_id="e2", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW
    )
    assert added.consultant == MANAGER.id


@pytest.mark.parametrize(
    "day",
    [date(1, 1, 1), date(1900, 1, 1), date(1999, 12, 31), date(2026, 11, 19), date(2026, 11, 28)],
    ids=str,
)
def test_an_entry_day_outside_creation_to_today_is_refused(day: date) -> None:
    """Created on 20 November 2026 (Paris), today is 27 November (Paris)."""
    ticket = in_status(Status.IN_PROGRESS)
    with pytest.raises(InvalidInput) as new:
        new_time_entry(
            ticket, L1, entry_id="e", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW, day=day
        )
    assert new.value.field == "date"
    with pytest.raises(InvalidInput) as moved:
        edited_time_entry(ticket, L1, entry(), now=NOW, day=day)
    assert moved.value.field == "date"


@pytest.mark.parametrize("day", [date(2026, 11, 20), date(2026, 11, 27)], ids=str)
def test_the_creation_day_and_today_are_fine(day: date) -> None:
    ticket = in_status(Status.IN_PROGRESS)
    logged = new_time_entry(
        ticket, L1, entry_id="e", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW, day=day
    )
    assert logged.day == day


def test_the_creation_day_is_the_paris_day() -> None:
    """Created at 23:30 UTC on 19 November: already the 20th in Paris."""
    ticket = replace(
        in_status(Status.IN_PROGRESS), created_at=datetime(2026, 11, 19, 23, 30, tzinfo=UTC)
    )
    with pytest.raises(InvalidInput):
        new_time_entry(
            ticket, L1, entry_id="e", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW,
            day=date(2026, 11, 19),
        )
    assert new_time_entry(
        ticket, L1, entry_id="e", minutes=5, kind=TimeKind.ANALYSIS, comment="", now=NOW,
        day=date(2026, 11, 20),
    ).day == date(2026, 11, 20)


@pytest.mark.parametrize("minutes", [0, -5, 1441])
def test_edited_minutes_stay_within_a_day(minutes: int) -> None:
    with pytest.raises(InvalidInput) as error:
        edited_time_entry(in_status(Status.IN_PROGRESS), L1, entry(), now=NOW, minutes=minutes)
    assert error.value.field == "minutes"
