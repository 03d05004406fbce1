"""Full assistance, incident and evolution lifecycles through the service, against moto."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.domain.errors import ActionNotAllowed
from helpdesk.domain.model import (
    SYSTEM,
    ClosureReason,
    Priority,
    QuoteOutcome,
    Status,
    TicketType,
)
from helpdesk.domain.timekeeping import Task, TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2, L2B, L3, MANAGER, OTHER_CLIENT, Clock
from tests.integration.store_support import (
    act,
    due_numbers,
    index_sort_keys,
    partition_items,
    queued_numbers,
    ticket_item,
)


def history_actions(service: HelpdeskService, number: int) -> list[tuple[int, str, str, str]]:
    """(version, action, from, to) of every stored history event, in version order."""
    return [
        (e.version, e.action, e.from_status.value, e.to_status.value)
        for e in service.history(MANAGER, number)
    ]


def by_month_keys(dynamodb: Any, month: str) -> list[str]:
    return index_sort_keys(dynamodb, "by_month", keys.month_pk(month))


def test_assistance_lifecycle(service: HelpdeskService, dynamodb: Any, clock: Clock) -> None:
    ticket = service.create_ticket(
        CLIENT,
        title="Création de l'utilisateur Fabrice",
        description="Merci",
        type=TicketType.ASSISTANCE,
    )
    n = ticket.number
    assert (ticket.number, ticket.version, ticket.status) == (1, 1, Status.OPEN)
    assert ticket_item(dynamodb, n)["status"] == "open"
    assert ticket.status_label == "Ouvert"
    assert queued_numbers(dynamodb, 1) == [n]

    t = act(service, L1, n, Action.TAKE, priority=Priority.HIGH)
    assert (t.status_label, t.assignee, t.priority, t.support_level) == (
        "Pris en charge",
        L1.id,
        Priority.HIGH,
        1,
    )
    assert service.tasks(L1, n) == [
        Task(n, "2026-11", "#1 - Création de l'utilisateur Fabrice - Novembre 2026", 0)
    ]
    t = act(service, L1, n, Action.START)
    assert t.status_label == "En Cours"
    t = act(service, L1, n, Action.HOLD, reason="waiting for the client's screenshot")
    assert (t.status, t.status_label, t.held_from) == (
        Status.ON_HOLD,
        "Un instant",
        Status.IN_PROGRESS,
    )
    t = act(service, L1, n, Action.RESUME)
    assert (t.status, t.held_from) == (Status.IN_PROGRESS, None)
    assert "held_from" not in ticket_item(dynamodb, n)

    service.log_time(L1, n, minutes=50, kind=TimeKind.ANALYSIS, comment="analysis")
    t = act(service, L1, n, Action.ESCALATE, assignee=L2.id, reason="needs level 2")
    assert (t.support_level, t.assignee, t.status) == (2, L2.id, Status.IN_PROGRESS)
    assert queued_numbers(dynamodb, 1) == []
    assert queued_numbers(dynamodb, 2) == [n]
    service.log_time(L2, n, minutes=70, kind=TimeKind.REALISATION)
    assert service.uow.tickets.get(n).time_spent_minutes == 120

    t = act(service, L2, n, Action.SEND_ANSWER, message="Done, please check.")
    assert (t.status, t.status_label) == (Status.ANSWER_SENT, "Réponse Envoyée")
    # 27 Nov 10:00 Paris + 7 days = 4 Dec 10:00 Paris = 09:00Z (acme: 7 days)
    assert t.auto_close_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert index_sort_keys(dynamodb, "due", keys.DUE_PK) == ["2026-12-04T09:00:00Z#0000000001"]

    t = act(service, CLIENT, n, Action.REOPEN, reason="still broken")
    assert (t.status, t.auto_close_at) == (Status.IN_PROGRESS, None)
    assert due_numbers(dynamodb) == []
    assert "due_pk" not in ticket_item(dynamodb, n)

    clock.advance(days=1)
    t = act(service, L2, n, Action.SEND_ANSWER, message="Fixed for real.")
    assert due_numbers(dynamodb) == [n]
    t = act(service, CLIENT, n, Action.CONFIRM)
    assert (t.status, t.status_label, t.closure_reason) == (
        Status.CLOSED,
        "Fermé",
        ClosureReason.CONFIRMED,
    )
    assert t.closed_at == clock.now
    assert queued_numbers(dynamodb, 2) == [] and due_numbers(dynamodb) == []
    item = ticket_item(dynamodb, n)
    assert item["closure_reason"] == "confirmed"
    assert not {"queue_pk", "due_pk", "month_pk"} & set(item)  # assistance: billed on time
    assert item["time_spent_minutes"] == 120
    # The entries are in by_month of their (Paris) date; the ticket itself is not.
    assert [sk.split("#")[:2] for sk in by_month_keys(dynamodb, "2026-11")] == [
        ["acme", "0000000001"],
        ["acme", "0000000001"],
    ]
    assert history_actions(service, n) == [
        (1, "create", "open", "open"),
        (2, "take", "open", "taken"),
        (3, "start", "taken", "in_progress"),
        (4, "hold", "in_progress", "on_hold"),
        (5, "resume", "on_hold", "in_progress"),
        (6, "escalate", "in_progress", "in_progress"),
        (7, "send-answer", "in_progress", "answer_sent"),
        (8, "reopen", "answer_sent", "in_progress"),
        (9, "send-answer", "in_progress", "answer_sent"),
        (10, "confirm", "answer_sent", "closed"),
    ]
    assert t.version == 10
    events = service.history(MANAGER, n)
    assert events[1].details["task_month"] == "2026-11"
    assert events[5].details == {
        "from_level": "1",
        "to_level": "2",
        "assignee": L2.id,
        "reason": "needs level 2",
    }
    with pytest.raises(ActionNotAllowed) as refused:
        service.perform(CLIENT, n, Action.REOPEN, _input(reason="again"))
    assert refused.value.allowed_actions == []


def _input(**params: Any) -> ActionInput:
    return ActionInput(**params)


def test_incident_lifecycle_escalated_to_queue_then_closed_by_consultant(
    service: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    n = service.create_ticket(
        MANAGER, title="Batch job fails", description="", type=TicketType.INCIDENT, org_id="acme"
    ).number
    assert queued_numbers(dynamodb, 2) == [n]
    t = act(service, L2, n, Action.TAKE, assignee=L2B.id, priority=Priority.CRITICAL)
    assert (t.assignee, t.support_level, t.priority) == (L2B.id, 2, Priority.CRITICAL)
    with pytest.raises(ActionNotAllowed):
        service.perform(L2, n, Action.START, _input())  # only the assignee starts
    act(service, L2B, n, Action.START)
    t = act(service, L2B, n, Action.ESCALATE)  # no assignee: the level 3 queue
    assert (t.support_level, t.assignee) == (3, None)
    assert queued_numbers(dynamodb, 2) == [] and queued_numbers(dynamodb, 3) == [n]
    assert "assignee" not in ticket_item(dynamodb, n)
    t = act(service, L3, n, Action.HOLD, reason="vendor")
    assert (t.assignee, t.held_from) == (L3.id, Status.IN_PROGRESS)  # claimed by acting
    act(service, L3, n, Action.RESUME)
    service.log_time(L3, n, minutes=240, kind=TimeKind.REALISATION)
    act(service, L3, n, Action.SEND_ANSWER, message="patched")
    assert due_numbers(dynamodb) == [n]
    t = act(service, L3, n, Action.CLOSE, note="client confirmed by phone")
    assert (t.status, t.closure_reason) == (Status.CLOSED, ClosureReason.CLOSED_BY_CONSULTANT)
    assert queued_numbers(dynamodb, 3) == [] and due_numbers(dynamodb) == []
    assert [a for _, a, _, _ in history_actions(service, n)] == [
        "create",
        "take",
        "start",
        "escalate",
        "hold",
        "resume",
        "send-answer",
        "close",
    ]
    assert service.uow.tickets.history(n)[-1].details == {"note": "client confirmed by phone"}
    assert service.uow.tickets.get(n).time_spent_minutes == 240
    assert [task.month for task in service.tasks(L3, n)] == ["2026-11"]


def test_auto_close_and_cancel(service: HelpdeskService, dynamodb: Any, clock: Clock) -> None:
    # globex closes after 1 day.
    n = service.create_ticket(
        OTHER_CLIENT, title="Slow", description="", type=TicketType.INCIDENT
    ).number
    act(service, L2, n, Action.TAKE)
    act(service, L2, n, Action.START)
    t = act(service, L2, n, Action.SEND_ANSWER, message="tuned")
    assert t.auto_close_at == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    clock.advance(hours=23)
    with pytest.raises(ActionNotAllowed):
        service.perform(SYSTEM, n, Action.AUTO_CLOSE, _input())
    clock.advance(hours=1)
    t = act(service, SYSTEM, n, Action.AUTO_CLOSE)
    assert (t.status, t.closure_reason) == (Status.CLOSED, ClosureReason.AUTO_CLOSED)
    assert due_numbers(dynamodb) == [] and queued_numbers(dynamodb, 2) == []
    assert history_actions(service, n)[-1] == (5, "auto-close", "answer_sent", "closed")
    assert service.uow.tickets.history(n)[-1].actor == "system"

    c = service.create_ticket(
        CLIENT, title="Oops", description="", type=TicketType.ASSISTANCE
    ).number
    t = act(service, CLIENT, c, Action.CANCEL)
    assert (t.status, t.closure_reason) == (Status.CLOSED, ClosureReason.CANCELLED)
    assert queued_numbers(dynamodb, 1) == []
    assert service.tasks(MANAGER, c) == []


def _evolution_to_realisation(service: HelpdeskService, title: str) -> int:
    n = service.create_ticket(CLIENT, title=title, description="", type=TicketType.EVOLUTION).number
    act(service, L2, n, Action.TAKE)
    act(service, L2, n, Action.START)
    act(service, L2, n, Action.SUBMIT_QUOTE, amount=Decimal("1200"), days=Decimal("3"))
    act(service, CLIENT, n, Action.APPROVE_QUOTE)
    return n


def test_evolution_lifecycle_quote_refused_resubmitted_approved_billed_in_paris_month(
    service: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    n = service.create_ticket(
        CLIENT, title="Export PDF", description="new report", type=TicketType.EVOLUTION
    ).number
    assert queued_numbers(dynamodb, 2) == [n]
    act(service, L2, n, Action.TAKE)
    act(service, L2, n, Action.START)
    t = act(
        service,
        L2,
        n,
        Action.SUBMIT_QUOTE,
        amount=Decimal("1200"),
        days=Decimal("3"),
        description="v1",
    )
    assert (t.status, t.status_label) == (
        Status.AWAITING_QUOTE_APPROVAL,
        "En Attente Validation Chiffrage",
    )
    assert t.quote is not None and (t.quote.version, t.quote.amount, t.quote.outcome) == (
        1,
        Decimal("1200.00"),
        QuoteOutcome.PENDING,
    )
    with pytest.raises(ActionNotAllowed):
        service.perform(L2, n, Action.SEND_ANSWER, _input(message="too early"))
    t = act(service, CLIENT, n, Action.REFUSE_QUOTE, reason="too expensive")
    assert t.status is Status.IN_PROGRESS
    assert (t.quotes[0].outcome, t.quotes[0].reason) == (QuoteOutcome.REFUSED, "too expensive")
    t = act(service, L2, n, Action.SUBMIT_QUOTE, amount=Decimal("950.50"))
    assert [(q.version, q.outcome) for q in t.quotes] == [
        (1, QuoteOutcome.REFUSED),
        (2, QuoteOutcome.PENDING),
    ]
    t = act(service, CLIENT, n, Action.APPROVE_QUOTE)
    assert (t.status, t.status_label) == (Status.IN_REALISATION, "En Cours de Réalisation")
    assert t.approved_quote is not None and t.approved_quote.amount == Decimal("950.50")
    assert t.approved_quote.decided_by == CLIENT.id
    stored_quotes = ticket_item(dynamodb, n)["quotes"]
    assert [(q["version"], q["amount"], q["outcome"]) for q in stored_quotes] == [
        (1, Decimal("1200.00"), "refused"),
        (2, Decimal("950.50"), "approved"),
    ]
    entry = service.log_time(L2, n, minutes=300, kind=TimeKind.REALISATION)
    assert entry.billable is False  # evolution time is internal
    t = act(service, L2, n, Action.HOLD)
    assert t.held_from is Status.IN_REALISATION
    t = act(service, L2, n, Action.RESUME)
    assert t.status is Status.IN_REALISATION
    act(service, L2, n, Action.SEND_ANSWER, message="delivered")
    assert due_numbers(dynamodb) == [n]
    t = act(service, CLIENT, n, Action.REOPEN, reason="a column is missing")
    assert t.status is Status.IN_REALISATION and due_numbers(dynamodb) == []
    act(service, L2, n, Action.SEND_ANSWER, message="column added")
    assert by_month_keys(dynamodb, "2026-11") == [f"acme#0000000001#{entry.id}"]

    # 30 Nov 23:30Z is 1 Dec 00:30 in Paris: billed in December.
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    t = act(service, CLIENT, n, Action.CONFIRM)
    assert (t.status, t.closure_reason) == (Status.CLOSED, ClosureReason.CONFIRMED)
    assert by_month_keys(dynamodb, "2026-12") == ["acme#0000000001#QUOTE"]
    assert by_month_keys(dynamodb, "2026-11") == [f"acme#0000000001#{entry.id}"]
    assert queued_numbers(dynamodb, 2) == [] and due_numbers(dynamodb) == []
    assert [a for _, a, _, _ in history_actions(service, n)] == [
        "create",
        "take",
        "start",
        "submit-quote",
        "refuse-quote",
        "submit-quote",
        "approve-quote",
        "hold",
        "resume",
        "send-answer",
        "reopen",
        "send-answer",
        "confirm",
    ]
    assert t.version == 13
    assert service.uow.tickets.history(n)[6].details == {
        "quote_version": "2",
        "outcome": "approved",
        "amount": "950.50",
    }


def test_evolution_auto_closed_is_billed_and_abandoned_is_not(
    service: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    billed = _evolution_to_realisation(service, "billed")
    act(service, L2, billed, Action.SEND_ANSWER, message="done")
    clock.now = datetime(2027, 1, 3, 9, 0, tzinfo=UTC)
    t = act(service, SYSTEM, billed, Action.AUTO_CLOSE)
    assert t.closure_reason is ClosureReason.AUTO_CLOSED
    assert by_month_keys(dynamodb, "2027-01") == [f"acme#{keys.pad(billed)}#QUOTE"]

    abandoned = service.create_ticket(
        CLIENT, title="abandoned", description="", type=TicketType.EVOLUTION
    ).number
    act(service, L2, abandoned, Action.TAKE)
    act(service, L2, abandoned, Action.START)
    # An evolution never quoted may be abandoned too (DESIGN §2, §7); this one is quoted first.
    act(service, L2, abandoned, Action.SUBMIT_QUOTE, amount=Decimal("10"))
    act(service, CLIENT, abandoned, Action.REFUSE_QUOTE, reason="no")
    t = act(service, L2, abandoned, Action.CLOSE, note="client gave up")
    assert t.closure_reason is ClosureReason.ABANDONED
    assert "month_pk" not in ticket_item(dynamodb, abandoned)
    assert by_month_keys(dynamodb, "2027-01") == [f"acme#{keys.pad(billed)}#QUOTE"]
    assert queued_numbers(dynamodb, 2) == []


def test_time_entries_are_in_by_month_of_their_paris_date(
    service: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    now, clock.now = clock.now, datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    # Opened in October: time is logged from the ticket's creation day (DESIGN.md §7).
    n = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE).number
    clock.now = now
    act(service, L1, n, Action.TAKE)
    october = service.log_time(L1, n, minutes=30, kind=TimeKind.ANALYSIS, day=date(2026, 10, 31))
    november = service.log_time(L1, n, minutes=45, kind=TimeKind.ANALYSIS)
    assert by_month_keys(dynamodb, "2026-10") == [f"acme#0000000001#{october.id}"]
    assert by_month_keys(dynamodb, "2026-11") == [f"acme#0000000001#{november.id}"]
    entries = {i["sk"]: i for i in partition_items(dynamodb, n, "TIME#")}
    assert entries[f"TIME#{october.id}"]["billable"] is True
    assert {t.month: t.minutes for t in service.tasks(L1, n)} == {
        "2026-10": 30,
        "2026-11": 45,
    }
