"""Comments: a client's reply suspends the auto-close countdown, a consultant's restarts it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput, NotFound
from helpdesk.domain.model import SYSTEM, Status, TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, FINANCE, L1, OTHER_CLIENT, Clock
from tests.integration.store_support import (
    due_numbers,
    index_sort_keys,
    partition_items,
    ticket_item,
)


def answered(service: HelpdeskService) -> int:
    n = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE).number
    for action, params in (
        (Action.TAKE, ActionInput()),
        (Action.START, ActionInput()),
        (Action.SEND_ANSWER, ActionInput(message="done")),
    ):
        service.perform(L1, n, action, params)
    return n


def test_client_reply_suspends_and_consultant_reply_restarts_the_countdown(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, clock: Clock
) -> None:
    n = answered(service)
    before = uow.tickets.get(n)
    assert due_numbers(dynamodb) == [n] and before.countdown_running

    clock.advance(days=2)
    service.add_comment(CLIENT, n, body="It still fails on Mondays")
    suspended = uow.tickets.get(n)
    assert (suspended.status, suspended.countdown_suspended) == (Status.ANSWER_SENT, True)
    assert suspended.version == before.version + 1
    assert due_numbers(dynamodb) == []
    assert "due_pk" not in ticket_item(dynamodb, n)
    # A second client comment changes nothing more; the scheduler cannot close it.
    service.add_comment(CLIENT, n, body="and on Tuesdays")
    assert uow.tickets.get(n).version == suspended.version
    clock.advance(days=30)
    with pytest.raises(ActionNotAllowed):
        service.perform(SYSTEM, n, Action.AUTO_CLOSE, ActionInput())
    # An internal note does not answer the client.
    service.add_comment(L1, n, body="looking at the Monday batch", internal=True)
    assert due_numbers(dynamodb) == []
    # A public reply starts the countdown again, from now.
    clock.now = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
    service.add_comment(L1, n, body="Fixed the Monday batch")
    restarted = uow.tickets.get(n)
    assert restarted.countdown_running
    assert restarted.auto_close_at == datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
    assert index_sort_keys(dynamodb, "due", "DUE") == ["2027-01-12T15:00:00Z#0000000001"]
    # Comments are not actions: the history is untouched.
    assert [e.action for e in uow.tickets.history(n)] == ["create", "take", "start", "send-answer"]
    assert len(partition_items(dynamodb, n, "COMMENT#")) == 4


def test_client_confirms_after_commenting(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    n = answered(service)
    service.add_comment(CLIENT, n, body="thanks, checking")
    service.perform(CLIENT, n, Action.CONFIRM, ActionInput())
    closed = uow.tickets.get(n)
    assert (closed.status, closed.countdown_suspended, closed.auto_close_at) == (
        Status.CLOSED,
        False,
        None,
    )
    assert due_numbers(dynamodb) == []


def test_internal_comments_are_hidden_from_clients(service: HelpdeskService) -> None:
    n = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE).number
    service.add_comment(CLIENT, n, body="hello")
    service.add_comment(L1, n, body="internal note", internal=True)
    service.add_comment(L1, n, body="public answer")
    assert [c.body for c in service.comments(L1, n)] == ["hello", "internal note", "public answer"]
    assert [c.body for c in service.comments(CLIENT, n)] == ["hello", "public answer"]
    stored = {c.body: c for c in service.comments(L1, n)}
    assert (stored["hello"].author, stored["hello"].source, stored["hello"].internal) == (
        CLIENT.id,
        "api",
        False,
    )
    with pytest.raises(InvalidInput) as refused:
        service.add_comment(CLIENT, n, body="sneaky", internal=True)
    assert refused.value.field == "internal"
    with pytest.raises(NotFound):
        service.comments(OTHER_CLIENT, n)
    with pytest.raises(NotFound):
        service.add_comment(OTHER_CLIENT, n, body="hi")
    with pytest.raises(Forbidden):
        service.comments(FINANCE, n)
    assert len(service.comments(L1, n)) == 3
