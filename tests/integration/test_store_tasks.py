"""`take` and the rollover's `TaskEnsured`: one task per ticket and month, whatever the order
or retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk import side_effects
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.changes import TaskEnsured
from helpdesk.domain.calendar import task_title
from helpdesk.domain.model import Status, Ticket, TicketType
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, Transition, decide
from helpdesk.ports import AlreadyExists, TicketChanged
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, Clock
from tests.integration.store_support import partition_items

TITLE = "Création de l'utilisateur Fabrice"


def open_ticket(service: HelpdeskService) -> Ticket:
    return service.create_ticket(CLIENT, title=TITLE, description="", type=TicketType.ASSISTANCE)


def task_items(dynamodb: Any, number: int) -> list[dict[str, Any]]:
    return partition_items(dynamodb, number, "TASK#")


def ensure_task(uow: DynamoUnitOfWork, ticket: Ticket, month: str, title: str) -> bool:
    """The rollover's write (TaskRolloverJob): True when it created the task, False when the
    month's task existed."""
    uow.add(TaskEnsured(ticket.number, month, title, only_if_missing=True))
    try:
        uow.commit()
    except AlreadyExists:
        return False
    return True


def commit(uow: DynamoUnitOfWork, transition: Transition) -> None:
    """What the service commits for an applied action (a take ensures its month's task)."""
    uow.add(*side_effects.of_transition(transition))
    uow.commit()


def test_ensure_task_true_once_then_false(service: HelpdeskService, uow: DynamoUnitOfWork) -> None:
    ticket = open_ticket(service)
    title = task_title(ticket.number, ticket.title, "2026-11")
    assert ensure_task(uow, ticket, "2026-11", title) is True
    assert ensure_task(uow, ticket, "2026-11", title) is False
    assert ensure_task(uow, ticket, "2026-11", "another title") is False
    assert ensure_task(uow, ticket, "2026-12", task_title(1, TITLE, "2026-12")) is True
    tasks = uow.tickets.with_tasks(ticket.number)[1]
    assert [(t.month, t.title, t.minutes) for t in tasks] == [
        ("2026-11", f"#1 - {TITLE} - Novembre 2026", 0),
        ("2026-12", f"#1 - {TITLE} - Décembre 2026", 0),
    ]


def test_take_after_ensure_task_keeps_one_task(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    ticket = open_ticket(service)
    title = task_title(ticket.number, ticket.title, "2026-11")
    assert ensure_task(uow, ticket, "2026-11", title) is True
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    tasks = task_items(dynamodb, ticket.number)
    assert [(t["sk"], t["title"], t["minutes"]) for t in tasks] == [("TASK#2026-11", title, 0)]
    assert ensure_task(uow, ticket, "2026-11", title) is False


def test_task_upsert_keeps_minutes_and_title_of_an_existing_task(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    """A task first created by a time entry (with minutes) is never reset by a later upsert,
    the same write `take` and the rollover make."""
    ticket = open_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.log_time(L1, ticket.number, minutes=35, kind=TimeKind.ANALYSIS)
    taken = uow.tickets.get(ticket.number)
    uow.add(TaskEnsured(taken.number, "2026-11", "a different title"))  # what `take` writes
    uow.commit()
    assert ensure_task(uow, taken, "2026-11", "x") is False
    tasks = task_items(dynamodb, ticket.number)
    assert [(t["title"], t["minutes"]) for t in tasks] == [(f"#1 - {TITLE} - Novembre 2026", 35)]


def test_take_decided_twice_creates_one_task_and_one_event(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, clock: Clock
) -> None:
    """A retried take (a duplicate delivery decided on the same version) applies once."""
    ticket = open_ticket(service)
    context = ActionContext(now=clock())
    month = "2026-11"
    title = task_title(ticket.number, ticket.title, month)
    first = decide(ticket, L1, Action.TAKE, ActionInput(), context)
    second = decide(ticket, L1B, Action.TAKE, ActionInput(), context)
    commit(uow, first)
    with pytest.raises(TicketChanged) as lost:
        commit(uow, second)
    assert lost.value.status_changed is True
    assert [(t["sk"], t["title"]) for t in task_items(dynamodb, ticket.number)] == [
        (f"TASK#{month}", title)
    ]
    stored = uow.tickets.get(ticket.number)
    assert (stored.status, stored.assignee) == (Status.TAKEN, L1.id)
    assert [e.action for e in uow.tickets.history(ticket.number)] == ["create", "take"]


def test_take_at_month_end_paris_creates_next_month_task(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    clock.now = datetime(2022, 1, 31, 23, 30, tzinfo=UTC)  # 1 Feb 00:30 in Paris
    ticket = open_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    assert [(t.month, t.title) for t in uow.tickets.with_tasks(ticket.number)[1]] == [
        ("2022-02", f"#1 - {TITLE} - Février 2022")
    ]
    assert uow.tickets.history(ticket.number)[-1].details["task_month"] == "2022-02"
