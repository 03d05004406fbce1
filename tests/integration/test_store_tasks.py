"""`take` and `ensure_task`: one task per ticket and month, whatever the order or retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamo import DynamoStore, TicketChanged
from helpdesk.domain.calendar import task_title
from helpdesk.domain.model import Status, Ticket, TicketType
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, decide
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, Clock
from tests.integration.store_support import partition_items

TITLE = "Création de l'utilisateur Fabrice"


def open_ticket(service: HelpdeskService) -> Ticket:
    return service.create_ticket(CLIENT, title=TITLE, description="", type=TicketType.ASSISTANCE)


def task_items(dynamodb: Any, number: int) -> list[dict[str, Any]]:
    return partition_items(dynamodb, number, "TASK#")


def test_ensure_task_true_once_then_false(service: HelpdeskService, store: DynamoStore) -> None:
    ticket = open_ticket(service)
    title = task_title(ticket.number, ticket.title, "2026-11")
    assert store.ensure_task(ticket, "2026-11", title) is True
    assert store.ensure_task(ticket, "2026-11", title) is False
    assert store.ensure_task(ticket, "2026-11", "another title") is False
    assert store.ensure_task(ticket, "2026-12", task_title(1, TITLE, "2026-12")) is True
    assert [(t["month"], t["title"], t["minutes"]) for t in store.tasks(ticket.number)] == [
        ("2026-11", f"#1 - {TITLE} - Novembre 2026", 0),
        ("2026-12", f"#1 - {TITLE} - Décembre 2026", 0),
    ]


def test_take_after_ensure_task_keeps_one_task(
    service: HelpdeskService, store: DynamoStore, dynamodb: Any
) -> None:
    ticket = open_ticket(service)
    title = task_title(ticket.number, ticket.title, "2026-11")
    assert store.ensure_task(ticket, "2026-11", title) is True
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    tasks = task_items(dynamodb, ticket.number)
    assert [(t["sk"], t["title"], t["minutes"]) for t in tasks] == [("TASK#2026-11", title, 0)]
    assert store.ensure_task(ticket, "2026-11", title) is False


def test_task_upsert_keeps_minutes_and_title_of_an_existing_task(
    service: HelpdeskService, store: DynamoStore, dynamodb: Any
) -> None:
    """A task first created by a time entry (with minutes) is never reset by a later upsert,
    the same write `take` and the rollover make."""
    ticket = open_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    service.log_time(L1, ticket.number, minutes=35, kind=TimeKind.ANALYSIS)
    taken = store.get_ticket(ticket.number)
    store._transact([store.task_upsert_operation(taken, "2026-11", "a different title")])
    assert store.ensure_task(taken, "2026-11", "x") is False
    tasks = task_items(dynamodb, ticket.number)
    assert [(t["title"], t["minutes"]) for t in tasks] == [(f"#1 - {TITLE} - Novembre 2026", 35)]


def test_take_decided_twice_creates_one_task_and_one_event(
    service: HelpdeskService, store: DynamoStore, dynamodb: Any, clock: Clock
) -> None:
    """A retried take (a duplicate delivery decided on the same version) applies once."""
    ticket = open_ticket(service)
    context = ActionContext(now=clock())
    month = "2026-11"
    title = task_title(ticket.number, ticket.title, month)
    first = decide(ticket, L1, Action.TAKE, ActionInput(), context)
    second = decide(ticket, L1B, Action.TAKE, ActionInput(), context)
    store.commit(first, task=(month, title))
    with pytest.raises(TicketChanged) as lost:
        store.commit(second, task=(month, title))
    assert lost.value.status_changed is True
    assert len(task_items(dynamodb, ticket.number)) == 1
    stored = store.get_ticket(ticket.number)
    assert (stored.status, stored.assignee) == (Status.TAKEN, L1.id)
    assert [e.action for e in store.history(ticket.number)] == ["create", "take"]


def test_take_at_month_end_paris_creates_next_month_task(
    service: HelpdeskService, store: DynamoStore, clock: Clock
) -> None:
    clock.now = datetime(2022, 1, 31, 23, 30, tzinfo=UTC)  # 1 Feb 00:30 in Paris
    ticket = open_ticket(service)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    assert [(t["month"], t["title"]) for t in store.tasks(ticket.number)] == [
        ("2022-02", f"#1 - {TITLE} - Février 2022")
    ]
    assert store.history(ticket.number)[-1].details["task_month"] == "2022-02"
