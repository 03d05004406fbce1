"""Time entries: the task of the entry's Paris month, 24 h per consultant-day, locked months."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput, MonthLocked
from helpdesk.domain.model import Caller, TicketType
from helpdesk.domain.timekeeping import Task, TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, L2, MANAGER, TABLE_NAME, Clock
from tests.integration.store_support import (
    index_sort_keys,
    is_month_locked,
    own_service,
    partition_items,
    raw_item,
    ticket_item,
)

TITLE = "Création de l'utilisateur Fabrice"


def taken_ticket(service: HelpdeskService, title: str = TITLE) -> int:
    """Opened 60 days ago (time is logged from the creation day on, DESIGN.md §7), taken now."""
    clock = service.clock
    assert isinstance(clock, Clock)
    now, clock.now = clock.now, clock.now - timedelta(days=60)
    number = service.create_ticket(
        CLIENT, title=title, description="", type=TicketType.ASSISTANCE
    ).number
    clock.now = now
    service.perform(L1, number, Action.TAKE, ActionInput())
    return number


def task_minutes(uow: DynamoUnitOfWork, number: int) -> dict[str, int]:
    return {t.month: t.minutes for t in uow.tickets.with_tasks(number)[1]}


def day_minutes(dynamodb: Any, consultant: str, day: str) -> int | None:
    item = raw_item(dynamodb, f"CONSULTANT#{consultant}", f"DAY#{day}")
    return None if item is None else int(item["minutes"])


def test_entry_just_before_midnight_utc_lands_on_february_task(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, clock: Clock
) -> None:
    clock.now = datetime(2022, 1, 31, 12, 0, tzinfo=UTC)
    n = taken_ticket(service)
    clock.now = datetime(2022, 1, 31, 23, 30, tzinfo=UTC)  # 1 Feb 2022, 00:30 in Paris
    entry = service.log_time(L1, n, minutes=45, kind=TimeKind.ANALYSIS, comment=" checked ")
    assert (entry.day, entry.month, entry.comment) == (date(2022, 2, 1), "2022-02", "checked")
    assert service.tasks(L1, n) == [
        Task(n, "2022-01", f"#1 - {TITLE} - Janvier 2022", 0),
        Task(n, "2022-02", f"#1 - {TITLE} - Février 2022", 45),
    ]
    assert index_sort_keys(dynamodb, "by_month", keys.month_pk("2022-02")) == [
        f"acme#0000000001#{entry.id}"
    ]
    assert index_sort_keys(dynamodb, "by_month", keys.month_pk("2022-01")) == []
    assert uow.tickets.get(n).time_spent_minutes == 45
    assert day_minutes(dynamodb, L1.id, "2022-02-01") == 45
    assert [e.id for e in service.time_entries(MANAGER, n)] == [entry.id]


def test_day_never_exceeds_1440_minutes_across_tickets(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    first, second = taken_ticket(service, "first"), taken_ticket(service, "second")
    day = date(2026, 11, 26)
    service.log_time(L1, first, minutes=1000, kind=TimeKind.ANALYSIS, day=day)
    with pytest.raises(InvalidInput) as refused:
        service.log_time(L1, second, minutes=441, kind=TimeKind.REALISATION, day=day)
    assert refused.value.field == "minutes"
    assert "1441" in refused.value.detail
    # Nothing written.
    assert task_minutes(uow, second) == {"2026-11": 0}
    assert ticket_item(dynamodb, second)["time_spent_minutes"] == 0
    assert partition_items(dynamodb, second, "TIME#") == []
    assert day_minutes(dynamodb, L1.id, day.isoformat()) == 1000
    # Exactly a full day is fine; one minute more is not, on any ticket.
    service.log_time(L1, second, minutes=440, kind=TimeKind.REALISATION, day=day)
    assert day_minutes(dynamodb, L1.id, day.isoformat()) == 1440
    with pytest.raises(InvalidInput):
        service.log_time(L1, first, minutes=1, kind=TimeKind.ANALYSIS, day=day)
    # Another consultant and another day are separate.
    service.log_time(L1B, first, minutes=1440, kind=TimeKind.ANALYSIS, day=day)
    service.log_time(L1, first, minutes=1440, kind=TimeKind.ANALYSIS, day=date(2026, 11, 25))
    assert uow.tickets.get(first).time_spent_minutes == 1000 + 1440 + 1440
    assert uow.tickets.get(second).time_spent_minutes == 440
    with pytest.raises(InvalidInput) as too_long:
        service.log_time(L2, first, minutes=1441, kind=TimeKind.ANALYSIS)
    assert too_long.value.field == "minutes"


def test_locked_month_refuses_entries_and_writes_nothing(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    n = taken_ticket(service)
    dynamodb.put_item(
        TableName=TABLE_NAME, Item={"pk": {"S": "LOCK"}, "sk": {"S": "MONTH#2026-10"}}
    )
    assert is_month_locked(dynamodb, "2026-10")
    with pytest.raises(MonthLocked) as locked:
        service.log_time(L1, n, minutes=60, kind=TimeKind.ANALYSIS, day=date(2026, 10, 15))
    assert locked.value.month == "2026-10"
    assert task_minutes(uow, n) == {"2026-11": 0}  # no October task either
    assert partition_items(dynamodb, n, "TIME#") == []
    assert uow.tickets.get(n).time_spent_minutes == 0
    assert day_minutes(dynamodb, L1.id, "2026-10-15") is None
    assert index_sort_keys(dynamodb, "by_month", keys.month_pk("2026-10")) == []
    # November is open.
    service.log_time(L1, n, minutes=60, kind=TimeKind.ANALYSIS, day=date(2026, 11, 1))
    assert task_minutes(uow, n) == {"2026-11": 60}


def test_time_refused_before_take_for_clients_and_in_the_future(
    service: HelpdeskService,
) -> None:
    n = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE).number
    with pytest.raises(ActionNotAllowed):
        service.log_time(L1, n, minutes=5, kind=TimeKind.ANALYSIS)
    service.perform(L1, n, Action.TAKE, ActionInput())
    with pytest.raises(Forbidden):
        service.log_time(CLIENT, n, minutes=5, kind=TimeKind.ANALYSIS)
    with pytest.raises(InvalidInput) as future:
        service.log_time(L1, n, minutes=5, kind=TimeKind.ANALYSIS, day=date(2026, 11, 28))
    assert future.value.field == "date"
    assert service.tasks(L1, n) == [Task(n, "2026-11", "#1 - t - Novembre 2026", 0)]


def test_twenty_threads_logging_on_one_ticket_add_up(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    n = taken_ticket(service)
    consultants: list[Caller] = [L1, L1B, L2, MANAGER]
    barrier = threading.Barrier(20, timeout=10)
    errors: list[BaseException] = []

    def log(i: int) -> None:
        try:
            barrier.wait()
            own_service(service).log_time(
                consultants[i % 4], n, minutes=i + 1, kind=TimeKind.ANALYSIS
            )
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    entries = uow.tickets.with_time_entries(n)[1]
    assert len(entries) == 20
    expected = sum(range(1, 21))
    assert sum(e.minutes for e in entries) == expected == 210
    assert task_minutes(uow, n) == {"2026-11": expected}
    assert uow.tickets.get(n).time_spent_minutes == expected
    for index, consultant in enumerate(consultants):
        assert day_minutes(dynamodb, consultant.id, "2026-11-27") == sum(
            i + 1 for i in range(20) if i % 4 == index
        )
    assert len(index_sort_keys(dynamodb, "by_month", keys.month_pk("2026-11"))) == 20
