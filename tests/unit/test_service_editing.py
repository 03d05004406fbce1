"""The editing use cases over the in-memory unit of work (tests/unit/fakes.py): the same
rules as on the table (tests/integration/test_service_editing.py), fast, with the races the
fake can interleave."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from helpdesk.domain.editing import TicketChanges
from helpdesk.domain.errors import MonthLocked, NotFound, StaleVersion
from helpdesk.domain.model import Priority, TicketType
from helpdesk.domain.timekeeping import Task, TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.unit.builders import CLIENT, L1, MANAGER
from tests.unit.fakes import InMemoryUnitOfWork

OPENED = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = OPENED

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def service(uow: InMemoryUnitOfWork) -> HelpdeskService:
    ids = (f"id-{n:04d}" for n in range(1, 10_000))
    clock = Clock()
    svc = HelpdeskService(uow, clock=clock, ids=lambda: next(ids))
    svc.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"])
    svc.put_consultant(MANAGER, L1.id, name="L1", email=L1.email, level=1)
    number = svc.create_ticket(CLIENT, title="Imprimante", description="", type=TicketType.ASSISTANCE)
    svc.perform(L1, number.number, Action.TAKE, ActionInput())  # September's task
    clock.now = NOW
    svc.log_time(L1, 1, minutes=30, kind=TimeKind.ANALYSIS, day=date(2026, 10, 5))  # id-0001
    svc.log_time(L1, 1, minutes=20, kind=TimeKind.ANALYSIS, day=date(2026, 11, 2))  # id-0002
    return svc


def test_a_new_title_renames_the_unexported_tasks(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    uow.locked_months.add("2026-10")
    service.edit_ticket(MANAGER, 1, TicketChanges(title="Scanner"))
    assert service.tasks(MANAGER, 1) == [
        Task(1, "2026-09", "#1 - Scanner - Septembre 2026", 0),
        Task(1, "2026-10", "#1 - Imprimante - Octobre 2026", 30),
        Task(1, "2026-11", "#1 - Scanner - Novembre 2026", 20),
    ]


def test_a_month_locked_before_the_commit_is_read_again_once(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    uow.interleave(lambda: uow.locked_months.add("2026-11"))
    edited = service.edit_ticket(MANAGER, 1, TicketChanges(title="Scanner"))
    assert edited.version == 3
    titles = {t.month: t.title for t in service.tasks(MANAGER, 1)}
    assert titles["2026-11"] == "#1 - Imprimante - Novembre 2026"
    assert titles["2026-09"] == "#1 - Scanner - Septembre 2026"


def test_an_if_match_on_the_version_just_replaced_is_412(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    other = TicketChanges(description="autre")
    uow.interleave(lambda: service.edit_ticket(MANAGER, 1, other))
    with pytest.raises(StaleVersion):
        service.edit_ticket(MANAGER, 1, TicketChanges(priority=Priority.HIGH), 2)
    assert uow.tickets.get(1).priority is Priority.NORMAL


def test_moving_and_deleting_entries_keeps_every_total(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    service.edit_time_entry(L1, 1, "id-0002", minutes=50, day=date(2026, 10, 6))
    assert {t.month: t.minutes for t in service.tasks(L1, 1)} == {
        "2026-09": 0,
        "2026-10": 80,
        "2026-11": 0,
    }
    assert uow.tickets.get(1).time_spent_minutes == 80
    assert uow.directory.day_minutes[(L1.id, "2026-11-02")] == 0
    assert uow.directory.day_minutes[(L1.id, "2026-10-06")] == 50
    service.delete_time_entry(MANAGER, 1, "id-0001")
    assert uow.tickets.get(1).time_spent_minutes == 50
    assert [e.id for e in service.time_entries(L1, 1)] == ["id-0002"]
    assert [e.action for e in service.history(MANAGER, 1)][-2:] == [
        "time-entry-edited",
        "time-entry-deleted",
    ]
    with pytest.raises(NotFound):
        service.delete_time_entry(MANAGER, 1, "id-0001")


def test_a_locked_month_refuses_the_change_and_nothing_moves(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    uow.locked_months.add("2026-10")
    with pytest.raises(MonthLocked):
        service.edit_time_entry(L1, 1, "id-0002", day=date(2026, 10, 6))
    assert uow.tickets.get(1).time_spent_minutes == 50
    assert uow.tickets.get(1).version == 2
