"""Editing a ticket and its time entries on the real table (moto): DESIGN.md §7 "Editing",
"Time entries". The month tasks of unexported months follow a new title, exported ones keep
theirs; search follows the title; a time entry's change moves the totals of its ticket, its
tasks and its author's days, in one transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.editing import TicketChanges
from helpdesk.domain.errors import Forbidden, InvalidInput, MonthLocked, StaleVersion
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import Priority, TicketType
from helpdesk.domain.search import parse_query
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, MANAGER, TABLE_NAME, Clock
from tests.integration.store_support import own_service, raw_item

OPENED = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)  # opened and taken in September (Paris)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def lock(dynamodb: Any, month: str) -> None:
    """The billing export's lock item (its key is what the checks read)."""
    dynamodb.put_item(TableName=TABLE_NAME, Item={"pk": {"S": "LOCK"}, "sk": {"S": f"MONTH#{month}"}})


@pytest.fixture
def number(service: HelpdeskService, clock: Clock) -> int:
    """#1 opened and taken in September; 30 min logged on 5 October and on 2 November: it has
    the tasks of September, October and November."""
    clock.now = OPENED
    n = service.create_ticket(
        CLIENT, title="Imprimante en panne", description="", type=TicketType.ASSISTANCE
    ).number
    service.perform(L1, n, Action.TAKE, ActionInput())
    clock.now = NOW
    for day in (date(2026, 10, 5), date(2026, 11, 2)):
        service.log_time(L1, n, minutes=30, kind=TimeKind.ANALYSIS, day=day)
    return n


def titles(uow: DynamoUnitOfWork, n: int) -> dict[str, str]:
    return {t.month: t.title for t in uow.tickets.with_tasks(n)[1]}


def minutes(uow: DynamoUnitOfWork, n: int) -> dict[str, int]:
    return {t.month: t.minutes for t in uow.tickets.with_tasks(n)[1]}


def day_minutes(dynamodb: Any, consultant: str, day: str) -> int | None:
    item = raw_item(dynamodb, f"CONSULTANT#{consultant}", f"DAY#{day}")
    return None if item is None else int(item["minutes"])


def everything(dynamodb: Any, n: int) -> list[Any]:
    """The ticket's partition and its consultants' days, as stored."""
    items = [
        *dynamodb.query(
            TableName=TABLE_NAME,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.ticket_pk(n)}},
            ConsistentRead=True,
        )["Items"],
        *dynamodb.query(
            TableName=TABLE_NAME,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CONSULTANT#{L1.id}"}},
            ConsistentRead=True,
        )["Items"],
    ]
    return sorted(items, key=repr)


# ------------------------------------------------------------------ PATCH /tickets/{number}


def test_a_new_title_renames_unexported_months_only(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    lock(dynamodb, "2026-10")  # October is exported
    edited = service.edit_ticket(MANAGER, number, TicketChanges(title="  Imprimante   HS "))
    assert (edited.title, edited.version) == ("Imprimante HS", 3)  # create 1, take 2, edit 3
    assert titles(uow, number) == {
        "2026-09": f"#{number} - Imprimante HS - Septembre 2026",
        "2026-10": f"#{number} - Imprimante en panne - Octobre 2026",
        "2026-11": f"#{number} - Imprimante HS - Novembre 2026",
    }
    event = service.history(MANAGER, number)[-1]
    assert (event.version, event.action, event.actor) == (3, "edit", MANAGER.id)
    assert event.details == {"title.old": "Imprimante en panne", "title.new": "Imprimante HS"}
    assert uow.tickets.get(number).time_spent_minutes == 60  # the edit keeps the time


def test_search_finds_the_new_title_and_not_the_old(
    service: HelpdeskService, number: int
) -> None:
    def found(words: str) -> list[int]:
        tickets, _cursor = service.list_tickets(
            MANAGER, TicketQuery(search=parse_query(words)), None, 25
        )
        return [t.number for t in tickets]

    assert found("imprimante panne") == [number]
    service.edit_ticket(MANAGER, number, TicketChanges(title="Scanner bloqué"))
    assert found("scanner") == [number]
    assert found("panne") == []


def test_a_month_locked_between_reads_and_commit_keeps_its_title(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    """The lock's ConditionCheck fails the commit; the one retry reads the locks again."""
    real = uow.tickets.locked_months
    calls: list[list[str]] = []

    def locked_after_first_read(months: list[str]) -> set[str]:
        calls.append(months)
        found = real(months)
        if len(calls) == 1:
            lock(dynamodb, "2026-11")  # exported just after this read
        return found

    uow.tickets.locked_months = locked_after_first_read  # type: ignore[method-assign]
    edited = service.edit_ticket(MANAGER, number, TicketChanges(title="Imprimante HS"))
    assert len(calls) == 2
    assert edited.version == 3  # one edit applied, once
    assert titles(uow, number)["2026-11"] == f"#{number} - Imprimante en panne - Novembre 2026"
    assert titles(uow, number)["2026-09"] == f"#{number} - Imprimante HS - Septembre 2026"
    assert len([e for e in service.history(MANAGER, number) if e.action == "edit"]) == 1


def test_stale_if_match_is_refused_and_nothing_changes(
    service: HelpdeskService, uow: DynamoUnitOfWork, number: int
) -> None:
    with pytest.raises(StaleVersion):
        service.edit_ticket(MANAGER, number, TicketChanges(priority=Priority.HIGH), 1)
    assert uow.tickets.get(number).priority is Priority.NORMAL
    assert service.edit_ticket(MANAGER, number, TicketChanges(priority=Priority.HIGH), 2).version == 3


def test_a_concurrent_edit_is_retried_on_fresh_reads_without_if_match(
    service: HelpdeskService, uow: DynamoUnitOfWork, number: int
) -> None:
    other = own_service(service)
    real_get = uow.tickets.with_tasks
    raced: list[bool] = []

    def racing(n: int) -> Any:
        read = real_get(n)
        if not raced:
            raced.append(True)
            other.edit_ticket(MANAGER, n, TicketChanges(description="écrit par un autre"))
        return read

    uow.tickets.with_tasks = racing  # type: ignore[method-assign,assignment]
    edited = service.edit_ticket(MANAGER, number, TicketChanges(priority=Priority.CRITICAL))
    assert edited.version == 4
    stored = uow.tickets.get(number)
    assert (stored.description, stored.priority) == ("écrit par un autre", Priority.CRITICAL)


# ------------------------------------------------------------------ time entries


def test_moving_an_entry_to_another_month_moves_every_total(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    entry = next(e for e in service.time_entries(L1, number) if e.day == date(2026, 11, 2))
    edited = service.edit_time_entry(
        L1, number, entry.id, minutes=45, day=date(2026, 9, 20), kind=TimeKind.REALISATION
    )
    assert (edited.minutes, edited.day, edited.consultant) == (45, date(2026, 9, 20), L1.id)
    assert minutes(uow, number) == {"2026-09": 45, "2026-10": 30, "2026-11": 0}
    assert uow.tickets.get(number).time_spent_minutes == 75
    assert day_minutes(dynamodb, L1.id, "2026-11-02") == 0
    assert day_minutes(dynamodb, L1.id, "2026-09-20") == 45
    stored = raw_item(dynamodb, keys.ticket_pk(number), keys.time_sk(entry.id))
    assert stored is not None
    assert (stored["date"], stored["month"], stored["month_pk"]) == (
        "2026-09-20",
        "2026-09",
        "MONTH#2026-09",
    )
    event = service.history(MANAGER, number)[-1]
    assert event.action == "time-entry-edited" and event.actor == L1.id
    assert {k: event.details[k] for k in ("entry", "minutes.old", "minutes.new")} == {
        "entry": entry.id,
        "minutes.old": "30",
        "minutes.new": "45",
    }
    assert (event.details["date.old"], event.details["date.new"]) == ("2026-11-02", "2026-09-20")
    assert uow.tickets.get(number).version == 3


def test_a_manager_edits_anothers_entry_and_the_authors_day_follows(
    service: HelpdeskService, dynamodb: Any, number: int
) -> None:
    entry = service.time_entries(L1, number)[0]
    with pytest.raises(Forbidden):
        service.edit_time_entry(L1B, number, entry.id, minutes=10)
    edited = service.edit_time_entry(MANAGER, number, entry.id, minutes=90)
    assert edited.consultant == L1.id
    assert day_minutes(dynamodb, L1.id, entry.day.isoformat()) == 90
    assert day_minutes(dynamodb, MANAGER.id, entry.day.isoformat()) is None


def test_an_edit_passing_24_hours_on_the_day_is_refused_whole(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    entry = service.time_entries(L1, number)[0]
    service.log_time(L1, number, minutes=1400, kind=TimeKind.ANALYSIS, day=entry.day)
    with pytest.raises(InvalidInput) as error:
        service.edit_time_entry(L1, number, entry.id, minutes=60)  # 1400 + 60 > 1440
    assert error.value.field == "minutes"
    assert day_minutes(dynamodb, L1.id, entry.day.isoformat()) == 1430
    assert uow.tickets.get(number).version == 2


def test_deleting_an_entry(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    entry = next(e for e in service.time_entries(L1, number) if e.day == date(2026, 10, 5))
    service.delete_time_entry(L1, number, entry.id)
    assert [e.day for e in service.time_entries(L1, number)] == [date(2026, 11, 2)]
    assert minutes(uow, number) == {"2026-09": 0, "2026-10": 0, "2026-11": 30}
    assert uow.tickets.get(number).time_spent_minutes == 30
    assert day_minutes(dynamodb, L1.id, "2026-10-05") == 0
    event = service.history(MANAGER, number)[-1]
    assert (event.action, event.details) == (
        "time-entry-deleted",
        {"entry": entry.id, "minutes.old": "30", "date.old": "2026-10-05"},
    )


def test_locked_months_refuse_changes_and_write_nothing(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, number: int
) -> None:
    october = next(e for e in service.time_entries(L1, number) if e.day == date(2026, 10, 5))
    november = next(e for e in service.time_entries(L1, number) if e.day == date(2026, 11, 2))
    lock(dynamodb, "2026-10")
    before = everything(dynamodb, number)
    with pytest.raises(MonthLocked):
        service.edit_time_entry(L1, number, october.id, minutes=10)
    with pytest.raises(MonthLocked):
        service.delete_time_entry(L1, number, october.id)
    with pytest.raises(MonthLocked) as into:
        service.edit_time_entry(L1, number, november.id, day=date(2026, 10, 20))
    assert into.value.month == "2026-10"
    assert everything(dynamodb, number) == before
